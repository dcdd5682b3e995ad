// The upstream pool against real loopback peers: which connections are kept and reused, which are not, how idle
// connections leave, the connection cap and its queue, and closing a pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientExchange } from './client.js';
import { UpstreamPool } from './pool.js';
import { drive, type PeerConnection, rawUpstream, until, within } from './testing/upstream-peer.js';

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

function answerOk(conn: PeerConnection): void {
  conn.socket.write(OK);
}

describe('reuse', () => {
  it('a second exchange goes out on the first one’s connection, from the same local address', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream(answerOk);
    try {
      const first = await drive(pool, { port: upstream.port });
      assert.equal(pool.idle, 1);
      const second = await drive(pool, { port: upstream.port });
      assert.deepEqual([first.reused, second.reused], [false, true]);
      assert.deepEqual(second.events, ['socket:true', 'connected', 'response:200', 'end']);
      assert.match(first.local ?? '', /^127\.0\.0\.1:\d+$/);
      assert.equal(second.local, first.local);
      assert.equal(upstream.connections.length, 1);
      assert.equal(upstream.connections[0]?.requests.length, 2);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('on a pooled connection a request without a body leaves within exchange(); its events still come after', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream(answerOk);
    try {
      await drive(pool, { port: upstream.port });
      const events: string[] = [];
      const ex = pool.exchange(
        {
          ip: '127.0.0.1',
          port: upstream.port,
          localAddress: undefined,
          method: 'GET',
          path: '/next',
          headers: { host: 'upstream.test' },
          hasBody: false,
        },
        {
          onSocket: (reused) => events.push(`socket:${reused}`),
          onConnected: () => events.push('connected'),
          onResponse: (res) => {
            events.push(`response:${res.statusCode}`);
            res.onData(() => {});
            res.onEnd(() => events.push('end'));
          },
          onUpgrade: () => events.push('upgrade'),
          onError: (err) => events.push(`error:${err.message}`),
        },
      ) as ClientExchange;
      const socket = ex.conn?.socket;
      assert.ok(socket !== undefined);
      // Everything this connection will have written, the new head included, is written or queued already.
      const sent = socket.bytesWritten + socket.writableLength;
      assert.equal(events.join(), '', 'nothing is reported inside the call');
      await until(() => events.includes('end'), 'the response');
      assert.equal(socket.bytesWritten, sent);
      assert.deepEqual(events, ['socket:true', 'connected', 'response:200', 'end']);
      assert.equal(upstream.connections[0]?.requests[1]?.head.startsWith('GET /next HTTP/1.1\r\n'), true);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('the most recently released connection is reused first (LIFO)', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    // /late is answered after /early: its connection is released last.
    const upstream = await rawUpstream((conn, req) => {
      if (req.head.includes('/early')) conn.socket.write(OK);
      else setTimeout(() => conn.socket.write(OK), 30);
    });
    try {
      const [a, b] = await Promise.all([
        drive(pool, { port: upstream.port, path: '/early' }),
        drive(pool, { port: upstream.port, path: '/late' }),
      ]);
      assert.notEqual(a.local, b.local);
      assert.equal(pool.idle, 2);
      const next = await drive(pool, { port: upstream.port });
      assert.equal(next.reused, true);
      assert.equal(next.local, b.local, 'the last released');
      const after = await drive(pool, { port: upstream.port });
      assert.equal(after.local, b.local, 'still the top of the stack');
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  for (const [what, response, pooled] of [
    ['Connection: close', 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok', false],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok', false],
    ['HTTP/1.0 with keep-alive', 'HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok', true],
    ['Keep-Alive: timeout=1', 'HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok', false],
    [
      'Keep-Alive: timeout=5, max=100',
      'HTTP/1.1 200 OK\r\nkeep-alive: timeout=5, max=100\r\ncontent-length: 2\r\n\r\nok',
      true,
    ],
    ['bytes past the body', `${OK}HTTP/1.1 200 OK\r\n\r\n`, false],
  ] as const) {
    it(`${what}: ${pooled ? 'pooled' : 'not pooled, closed after the response'}`, async () => {
      const pool = new UpstreamPool({ maxConnections: Infinity });
      const upstream = await rawUpstream((conn) => conn.socket.write(response));
      try {
        const first = await drive(pool, { port: upstream.port });
        assert.equal(first.body, 'ok');
        const second = await drive(pool, { port: upstream.port });
        assert.equal(second.reused, pooled);
        assert.equal(upstream.connections.length, pooled ? 1 : 2);
        if (!pooled) await until(() => upstream.connections[0]?.closed === true, 'the first connection to close');
      } finally {
        pool.destroy();
        await upstream.close();
      }
    });
  }

  it('Keep-Alive: timeout=2: the idle connection is closed about a second after the response', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream((conn) =>
      conn.socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=2\r\ncontent-length: 2\r\n\r\nok'),
    );
    try {
      await drive(pool, { port: upstream.port });
      const answered = Date.now();
      assert.equal(pool.idle, 1);
      await until(() => upstream.connections[0]?.closed === true, 'the idle connection to close', 3000);
      const after = Date.now() - answered;
      assert.ok(after >= 900 && after < 1900, `closed ${after} ms after the response`);
      assert.equal(pool.size, 0);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('the idle timeout counts from the last response: a connection reused in time is not closed under it', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream((conn) =>
      conn.socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=2\r\ncontent-length: 2\r\n\r\nok'),
    );
    try {
      await drive(pool, { port: upstream.port });
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await drive(pool, { port: upstream.port })).reused, true);
      const answered = Date.now();
      // Past a second after the first response, but not after the second.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(upstream.connections[0]?.closed, false);
      assert.equal(pool.idle, 1);
      await until(() => upstream.connections[0]?.closed === true, 'the idle connection to close', 3000);
      const after = Date.now() - answered;
      assert.ok(after >= 900 && after < 1900, `closed ${after} ms after the last response`);
      assert.equal(upstream.connections.length, 1);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('a shorter Keep-Alive hint on a later response brings the idle timeout forward', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    let answers = 0;
    const upstream = await rawUpstream((conn) =>
      conn.socket.write(
        ++answers === 1 ? OK : 'HTTP/1.1 200 OK\r\nkeep-alive: timeout=2\r\ncontent-length: 2\r\n\r\nok',
      ),
    );
    try {
      await drive(pool, { port: upstream.port });
      assert.equal((await drive(pool, { port: upstream.port })).reused, true);
      const answered = Date.now();
      await until(() => upstream.connections[0]?.closed === true, 'the idle connection to close', 3000);
      const after = Date.now() - answered;
      assert.ok(after >= 900 && after < 1900, `closed ${after} ms after the response with the hint`);
      assert.equal(pool.size, 0);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('a response that ends before the request body was sent leaves the connection unpooled', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream((conn) => conn.socket.write(OK), { onHead: true });
    try {
      const done = new Promise<boolean>((resolve) => {
        const ex = pool.exchange(
          {
            ip: '127.0.0.1',
            port: upstream.port,
            localAddress: undefined,
            method: 'POST',
            path: '/',
            headers: { host: 'h.test', 'content-length': '10' },
            hasBody: true,
          },
          {
            onSocket() {},
            onConnected() {
              ex.write(Buffer.from('hello'));
            },
            onResponse(res) {
              res.onData(() => {});
              res.onEnd(() => {
                // The rest of the body comes too late: it must not reach the (closed) connection.
                ex.write(Buffer.from('world'));
                ex.end();
                resolve(res.complete);
              });
            },
            onUpgrade() {},
            onError(err) {
              throw err;
            },
          },
        );
      });
      assert.equal(await within(done, 'the response to end'), true);
      await until(() => upstream.connections[0]?.closed === true, 'the connection to close');
      assert.equal(pool.size, 0);
      const next = await drive(pool, { port: upstream.port });
      assert.equal(next.reused, false);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('idle connections do not keep the process alive; busy ones do', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    let busy = -1;
    const upstream = await rawUpstream((conn) => {
      conn.socket.unref();
      busy = sockets();
      conn.socket.write(OK);
    });
    try {
      await until(() => sockets() === 0, "earlier tests' sockets to close");
      await drive(pool, { port: upstream.port });
      assert.equal(busy, 1, 'the connection counts while its exchange runs');
      assert.equal(sockets(), 0, 'and not once idle');
      assert.equal(pool.idle, 1);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });
});

describe('idle connections leaving', () => {
  it('a server closing an idle connection takes it out of the pool; the next exchange dials anew', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream(answerOk);
    try {
      await drive(pool, { port: upstream.port });
      upstream.connections[0]!.socket.end();
      await until(() => pool.size === 0, 'the pool to drop the connection');
      const next = await drive(pool, { port: upstream.port });
      assert.deepEqual(next.events, ['socket:false', 'connected', 'response:200', 'end']);
      assert.equal(upstream.connections.length, 2);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('bytes arriving on an idle connection close it', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream(answerOk);
    try {
      await drive(pool, { port: upstream.port });
      upstream.connections[0]!.socket.write('HTTP/1.1 200 OK\r\n\r\n');
      await until(() => upstream.connections[0]?.closed === true, 'the connection to close');
      assert.equal(pool.size, 0);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('dropIdle closes the idle connections to one endpoint only', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const a = await rawUpstream((conn) => setTimeout(() => conn.socket.write(OK), 10));
    const b = await rawUpstream(answerOk);
    try {
      await Promise.all([drive(pool, { port: a.port }), drive(pool, { port: a.port }), drive(pool, { port: b.port })]);
      assert.deepEqual([a.connections.length, pool.idle], [2, 3]);
      pool.dropIdle('127.0.0.1', a.port);
      assert.equal(pool.idle, 1);
      await until(() => a.connections.every((c) => c.closed), "a's connections to close");
      assert.equal(b.connections[0]?.closed, false);
      assert.equal((await drive(pool, { port: b.port })).reused, true);
    } finally {
      pool.destroy();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('endpoints', () => {
  it('one address on two ports, or from two local addresses, is three endpoints: each reuses its own connections', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const a = await rawUpstream(answerOk);
    const b = await rawUpstream(answerOk);
    try {
      const firsts = [
        await drive(pool, { port: a.port }),
        await drive(pool, { port: a.port, localAddress: '127.0.0.2' }),
        await drive(pool, { port: b.port }),
      ];
      assert.deepEqual(
        firsts.map((o) => o.reused),
        [false, false, false],
      );
      const again = [
        await drive(pool, { port: b.port }),
        await drive(pool, { port: a.port, localAddress: '127.0.0.2' }),
        await drive(pool, { port: a.port }),
      ];
      assert.deepEqual(
        again.map((o) => o.reused),
        [true, true, true],
      );
      // Each went out on the connection its endpoint made: same local address and port as the first time.
      assert.deepEqual(
        again.map((o) => o.local),
        [firsts[2]!.local, firsts[1]!.local, firsts[0]!.local],
      );
      assert.match(firsts[1]!.local ?? '', /^127\.0\.0\.2:/);
      assert.deepEqual([a.connections.length, b.connections.length, pool.size], [2, 1, 3]);
    } finally {
      pool.destroy();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('an endpoint whose last connection closed is forgotten; its address still reaches its other endpoints', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const a = await rawUpstream(answerOk);
    const b = await rawUpstream(answerOk);
    try {
      await drive(pool, { port: a.port });
      const onB = await drive(pool, { port: b.port });
      a.connections[0]!.socket.destroy();
      await until(() => pool.size === 1, 'the closed connection to leave the pool');
      assert.equal((await drive(pool, { port: b.port })).local, onB.local);
      const anew = await drive(pool, { port: a.port });
      assert.equal(anew.reused, false);
      assert.equal((await drive(pool, { port: a.port })).reused, true);
    } finally {
      pool.destroy();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('maxConnections', () => {
  it('exchanges beyond the cap wait, in arrival order, for a connection to be free', async () => {
    const pool = new UpstreamPool({ maxConnections: 1 });
    const order: string[] = [];
    const upstream = await rawUpstream((conn, req) => {
      order.push(/GET (\S+)/.exec(req.head)![1]!);
      setTimeout(() => conn.socket.write(OK), 5);
    });
    try {
      const results = await Promise.all(['/1', '/2', '/3'].map((path) => drive(pool, { port: upstream.port, path })));
      assert.deepEqual(order, ['/1', '/2', '/3']);
      assert.deepEqual(
        results.map((r) => r.reused),
        [false, true, true],
      );
      assert.equal(upstream.connections.length, 1);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('a waiting exchange that is destroyed is skipped', async () => {
    const pool = new UpstreamPool({ maxConnections: 1 });
    const upstream = await rawUpstream((conn) => setTimeout(() => conn.socket.write(OK), 10));
    try {
      const first = drive(pool, { port: upstream.port, path: '/1' });
      let events = 0;
      const noop = () => events++;
      const gone = pool.exchange(
        {
          ip: '127.0.0.1',
          port: upstream.port,
          localAddress: undefined,
          method: 'GET',
          path: '/gone',
          headers: {},
          hasBody: false,
        },
        { onSocket: noop, onConnected: noop, onResponse: noop, onUpgrade: noop, onError: noop },
      );
      const third = drive(pool, { port: upstream.port, path: '/3' });
      gone.destroy();
      await Promise.all([first, third]);
      assert.equal(events, 0);
      assert.deepEqual(
        upstream.connections[0]?.requests.map((r) => /GET (\S+)/.exec(r.head)![1]),
        ['/1', '/3'],
      );
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('at the cap, a connection idle to another endpoint is closed to make room', async () => {
    const pool = new UpstreamPool({ maxConnections: 1 });
    const a = await rawUpstream(answerOk);
    const b = await rawUpstream(answerOk);
    try {
      await drive(pool, { port: a.port });
      const out = await drive(pool, { port: b.port });
      assert.equal(out.body, 'ok');
      await until(() => a.connections[0]?.closed === true, "a's idle connection to close");
      assert.equal(pool.size, 1);
    } finally {
      pool.destroy();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('closing the pool', () => {
  it('retire closes idle connections now and busy ones when their exchange ends', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const upstream = await rawUpstream((conn, req) => {
      if (req.head.includes('/slow')) setTimeout(() => conn.socket.write(OK), 30);
      else conn.socket.write(OK);
    });
    try {
      await drive(pool, { port: upstream.port });
      const slow = drive(pool, { port: upstream.port, path: '/slow' });
      // The idle one was taken by /slow; make another idle one beside it.
      await drive(pool, { port: upstream.port });
      assert.deepEqual([pool.size, pool.idle], [2, 1]);
      pool.retire();
      assert.deepEqual([pool.size, pool.idle], [1, 0]);
      const out = await slow;
      assert.equal(out.body, 'ok', 'the busy exchange finished');
      await until(() => upstream.connections.every((c) => c.closed), 'every connection to close');
      assert.equal(pool.size, 0);
    } finally {
      pool.destroy();
      await upstream.close();
    }
  });

  it('destroy fails exchanges in flight and waiting, and later ones', async () => {
    const pool = new UpstreamPool({ maxConnections: 1 });
    const upstream = await rawUpstream(() => {});
    try {
      const inFlight = drive(pool, { port: upstream.port });
      const waiting = drive(pool, { port: upstream.port });
      await until(() => upstream.connections[0]?.requests.length === 1, 'the request to arrive');
      pool.destroy();
      const later = await drive(pool, { port: upstream.port });
      assert.deepEqual((await inFlight).events, ['socket:false', 'connected', 'error:exchange']);
      assert.deepEqual((await waiting).events, ['error:connect']);
      assert.deepEqual(later.events, ['error:connect']);
      await until(() => upstream.connections[0]?.closed === true, 'the connection to close');
    } finally {
      await upstream.close();
    }
  });
});
