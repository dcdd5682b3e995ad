// The upstream client's wire behaviour against real loopback peers: how requests are framed, how every kind of
// response body is read (split anywhere), informational and upgrade responses, and each way an exchange fails.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UpstreamPool } from './pool.js';
import { codeOf, drive, rawUpstream, readSlowly, until, within, writeByteByByte } from './testing/upstream-peer.js';
import { refusedPort } from '../../../test/helpers/refused-port.js';

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

describe('response bodies', () => {
  const pool = new UpstreamPool({ maxConnections: Infinity });
  after(() => pool.destroy());

  for (const [framing, response, body, pooled] of [
    ['content-length', 'HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world', 'hello world', true],
    [
      'chunked',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n',
      'hello world',
      true,
    ],
    ['close-delimited', 'HTTP/1.1 200 OK\r\n\r\nhello world', 'hello world', false],
  ] as const) {
    it(`${framing}, arriving one byte at a time, is read whole`, async () => {
      const upstream = await rawUpstream((conn) => {
        void writeByteByByte(conn.socket, response).then(() => {
          if (framing === 'close-delimited') conn.socket.end();
        });
      });
      try {
        const out = await drive(pool, { port: upstream.port });
        assert.deepEqual(out.events, ['socket:false', 'connected', 'response:200', 'end']);
        assert.equal(out.body, body);
        assert.equal(out.res?.complete, true);
        assert.equal(out.res?.hasBody, true);
        // The connection is pooled after a delimited body; a close-delimited one cannot be.
        const again = await drive(pool, { port: upstream.port });
        assert.equal(again.reused, pooled);
      } finally {
        await upstream.close();
      }
    });
  }

  it('HEAD, 204 and 304 have no body even with a content-length, and the connection is reused', async () => {
    const upstream = await rawUpstream((conn, req) => {
      if (req.head.startsWith('HEAD')) conn.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n');
      else if (req.head.includes('/204')) conn.socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      else conn.socket.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n');
    });
    try {
      const head = await drive(pool, { port: upstream.port, method: 'HEAD' });
      const noContent = await drive(pool, { port: upstream.port, path: '/204' });
      const notModified = await drive(pool, { port: upstream.port, path: '/304' });
      for (const out of [head, noContent, notModified]) {
        assert.equal(out.res?.hasBody, false);
        assert.equal(out.res?.complete, true);
        assert.equal(out.body, '');
        assert.equal(out.events.at(-1), 'end');
      }
      assert.deepEqual(
        [head.reused, noContent.reused, notModified.reused, upstream.connections.length],
        [false, true, true, 1],
      );
    } finally {
      await upstream.close();
    }
  });

  it('skips 100 Continue and 103 before the final response, even split across reads', async () => {
    const upstream = await rawUpstream((conn) => {
      void writeByteByByte(
        conn.socket,
        `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n${OK}`,
      );
    });
    try {
      const out = await drive(pool, { port: upstream.port });
      assert.deepEqual(out.events, ['socket:false', 'connected', 'response:200', 'end']);
      assert.equal(out.body, 'ok');
    } finally {
      await upstream.close();
    }
  });

  it('a body that arrives before the consumer reads it is held, then delivered', async () => {
    const upstream = await rawUpstream((conn) =>
      conn.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabcdef`),
    );
    try {
      const out = await drive(pool, { port: upstream.port, read: false });
      await new Promise((r) => setTimeout(r, 20));
      let body = '';
      const ended = new Promise<void>((resolve) => out.res!.onEnd(resolve));
      out.res!.onData((chunk) => (body += chunk.toString()));
      await within(ended, 'the body to end');
      assert.equal(body, 'abcdef');
    } finally {
      await upstream.close();
    }
  });

  it('a body the consumer pauses on is held, not lost, and arrives in order', async () => {
    const upstream = await rawUpstream((conn) =>
      conn.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabcdef`),
    );
    try {
      const out = await drive(pool, { port: upstream.port, read: false });
      const res = out.res!;
      // Read only after a while: the head and body came in one read, long before.
      await new Promise((r) => setTimeout(r, 20));
      let body = '';
      res.pause();
      res.onData((chunk) => (body += chunk.toString()));
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(body, '', 'paused: nothing delivered');
      const ended = new Promise<void>((resolve) => res.onEnd(resolve));
      res.resume();
      await within(ended, 'the body to end');
      assert.equal(body, 'abcdef');
      assert.equal((await drive(pool, { port: upstream.port })).reused, true);
    } finally {
      await upstream.close();
    }
  });

  it('a body of many reads, held while paused and taken slowly, arrives byte for byte', async () => {
    // Reads fill one slab after another; a piece held or still being written must never be written over.
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 12)) & 0xff;
    const upstream = await rawUpstream((conn) => {
      conn.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
      conn.socket.write(body);
    });
    try {
      const out = await drive(pool, { port: upstream.port, read: false });
      await new Promise((r) => setTimeout(r, 30));
      assert.ok((await readSlowly(out.res!)).equals(body), 'the same bytes, in order');
    } finally {
      await upstream.close();
    }
  });

  it('discard() reads the rest of a body and leaves the connection reusable', async () => {
    const upstream = await rawUpstream((conn, req) => {
      if (req.head.includes('/big')) {
        conn.socket.write('HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n4\r\nbusy\r\n');
        setTimeout(() => conn.socket.write('4\r\nbusy\r\n0\r\n\r\n'), 10);
      } else conn.socket.write(OK);
    });
    try {
      const out = await drive(pool, { port: upstream.port, path: '/big', read: false });
      const ended = new Promise<void>((resolve) => out.res!.onEnd(resolve));
      out.res!.discard();
      await within(ended, 'the body to end');
      const next = await drive(pool, { port: upstream.port });
      assert.deepEqual([next.reused, next.body, upstream.connections.length], [true, 'ok', 1]);
    } finally {
      await upstream.close();
    }
  });

  it('a connection closing before a delimited body ends aborts the response', async () => {
    const upstream = await rawUpstream((conn) => {
      conn.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
    });
    try {
      const out = await drive(pool, { port: upstream.port });
      assert.deepEqual(out.events, ['socket:false', 'connected', 'response:200', 'aborted']);
      assert.equal(out.body, 'partial');
      assert.equal(out.res?.complete, false);
      assert.equal(codeOf(out.aborted), 'ECONNRESET');
    } finally {
      await upstream.close();
    }
  });
});

describe('requests', () => {
  const pool = new UpstreamPool({ maxConnections: Infinity });
  after(() => pool.destroy());

  it('the head carries the method, path and headers as given; no body, no framing header', async () => {
    const upstream = await rawUpstream((conn) => conn.socket.write(OK));
    try {
      await drive(pool, { port: upstream.port, path: '/a?b=c', headers: { host: 'h.test', 'x-many': ['1', '2'] } });
      assert.equal(
        upstream.connections[0]?.requests[0]?.head,
        'GET /a?b=c HTTP/1.1\r\nhost: h.test\r\nx-many: 1\r\nx-many: 2\r\n\r\n',
      );
    } finally {
      await upstream.close();
    }
  });

  it('a body with a content-length goes as is; one without is chunked on the wire', async () => {
    const upstream = await rawUpstream((conn) => conn.socket.write(OK));
    try {
      const sized = await drive(pool, {
        port: upstream.port,
        method: 'POST',
        headers: { host: 'h.test', 'content-length': '10' },
        body: ['hello', '', 'world'],
      });
      const chunked = await drive(pool, { port: upstream.port, method: 'POST', body: ['hello', '', 'world'] });
      const [first, second] = upstream.connections[0]!.requests;
      assert.equal(first?.head, 'POST / HTTP/1.1\r\nhost: h.test\r\ncontent-length: 10\r\n\r\n');
      assert.equal(first?.body, 'helloworld');
      assert.equal(second?.head, 'POST / HTTP/1.1\r\nhost: upstream.test\r\ntransfer-encoding: chunked\r\n\r\n');
      assert.equal(second?.body, '5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n', 'the empty write did not end the body');
      assert.deepEqual([sized.body, chunked.body, chunked.reused], ['ok', 'ok', true]);
    } finally {
      await upstream.close();
    }
  });

  it('a body longer than its content-length is never sent past it: the exchange fails', async () => {
    const upstream = await rawUpstream(() => {});
    try {
      const out = await drive(pool, {
        port: upstream.port,
        method: 'POST',
        headers: { host: 'h.test', 'content-length': '3' },
        body: ['abcdef'],
      });
      assert.equal(out.error?.phase, 'exchange');
      await until(() => upstream.connections[0]?.closed === true, 'the connection to close');
    } finally {
      await upstream.close();
    }
  });

  it('a head that would break the request line or a header line fails before any connection is made', async () => {
    for (const bad of [{ path: '/a b' }, { method: 'GET /x HTTP/1.1\r\n' }, { headers: { host: 'a\r\nx: y' } }]) {
      const out = await drive(pool, { port: 9, ...bad });
      assert.deepEqual(out.events, ['error:exchange'], JSON.stringify(bad));
    }
  });
});

describe('upgrades', () => {
  const pool = new UpstreamPool({ maxConnections: Infinity });
  after(() => pool.destroy());

  it('a 101 to an upgrade request hands over the socket with the bytes read past the head', async () => {
    const upstream = await rawUpstream((conn) => {
      conn.socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nearly');
      conn.socket.on('data', (d) => conn.socket.write(`echo:${d}`));
    });
    try {
      const out = await drive(pool, {
        port: upstream.port,
        headers: { host: 'h.test', connection: 'upgrade', upgrade: 'websocket' },
      });
      assert.deepEqual(out.events, ['socket:false', 'connected', 'upgrade:101']);
      assert.equal(out.upgrade?.head.toString(), 'early');
      assert.equal(out.res?.headers.upgrade, 'websocket');
      assert.equal(pool.size, 0, 'the connection left the pool');
      const socket = out.upgrade!.socket;
      const echoed = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
      socket.write('ping');
      assert.equal(await within(echoed, 'the echo'), 'echo:ping');
      socket.destroy();
    } finally {
      await upstream.close();
    }
  });

  it('after a 101, a burst from upstream reaches a slow reader of the socket whole and in order', async () => {
    const burst = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < burst.length; i++) burst[i] = (i * 7 + (i >> 10)) & 0xff;
    const upstream = await rawUpstream((conn) => {
      conn.socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
      conn.socket.end(burst);
    });
    try {
      const out = await drive(pool, {
        port: upstream.port,
        headers: { host: 'h.test', connection: 'upgrade', upgrade: 'websocket' },
      });
      const socket = out.upgrade!.socket;
      const pieces: Buffer[] = [out.upgrade!.head];
      const ended = new Promise<void>((resolve) => socket.once('end', resolve));
      socket.on('data', (d: Buffer) => {
        pieces.push(d);
        socket.pause();
        setTimeout(() => socket.resume(), 1);
      });
      await within(ended, 'the burst to end');
      assert.ok(Buffer.concat(pieces).equals(burst), 'the same bytes, in order');
      socket.destroy();
    } finally {
      await upstream.close();
    }
  });

  it('a 101 to a request that did not ask to upgrade fails the exchange', async () => {
    const upstream = await rawUpstream((conn) => conn.socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
    try {
      const out = await drive(pool, { port: upstream.port });
      assert.deepEqual(out.events, ['socket:false', 'connected', 'error:exchange']);
    } finally {
      await upstream.close();
    }
  });
});

describe('failures', () => {
  const pool = new UpstreamPool({ maxConnections: Infinity });
  after(() => pool.destroy());

  it('a malformed response head fails the exchange (phase exchange) and closes the connection', async () => {
    for (const response of [
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok',
      'HTTP/1.1 200 OK\nx: y\n\n',
      'HTTP/2.0 200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx: a\r\n folded\r\n\r\n',
    ]) {
      const upstream = await rawUpstream((conn) => conn.socket.write(response));
      try {
        const out = await drive(pool, { port: upstream.port });
        assert.deepEqual(out.events, ['socket:false', 'connected', 'error:exchange'], JSON.stringify(response));
        await until(() => upstream.connections[0]?.closed === true, 'the connection to close');
      } finally {
        await upstream.close();
      }
    }
  });

  it('a response head past 60 KiB fails the exchange', async () => {
    const upstream = await rawUpstream((conn) => conn.socket.write(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(61 * 1024)}`));
    try {
      const out = await drive(pool, { port: upstream.port });
      assert.deepEqual(out.events, ['socket:false', 'connected', 'error:exchange']);
      assert.match(out.error!.err.message, /exceeds/);
    } finally {
      await upstream.close();
    }
  });

  it('the connection closing before the response head fails the exchange with ECONNRESET', async () => {
    const upstream = await rawUpstream((conn) => conn.socket.end('HTTP/1.1 200 O'));
    try {
      const out = await drive(pool, { port: upstream.port });
      assert.deepEqual(out.events, ['socket:false', 'connected', 'error:exchange']);
      assert.equal(codeOf(out.error?.err), 'ECONNRESET');
    } finally {
      await upstream.close();
    }
  });

  it('connect refused fails in the connect phase, without onConnected', async () => {
    const out = await drive(pool, { port: await refusedPort() });
    assert.deepEqual(out.events, ['socket:false', 'error:connect']);
    assert.equal(codeOf(out.error?.err), 'ECONNREFUSED');
    assert.equal(pool.size, 0);
  });

  it('a local address that is not one fails in the connect phase', async () => {
    const out = await drive(pool, { port: 9, localAddress: 'not-an-ip' });
    assert.deepEqual(out.events, ['socket:false', 'error:connect']);
    assert.equal(pool.size, 0);
  });
});

describe('a consumer that throws', () => {
  for (const [name, split] of [
    ['with the body in the read after the head', true],
    ['with the body in the same read as the head', false],
  ] as const) {
    it(`${name}: its exchange is aborted, its connection closed, and the pool serves the next one`, async () => {
      const upstream = await rawUpstream((conn) => {
        if (!split) {
          conn.socket.write(OK);
          return;
        }
        conn.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n');
        setTimeout(() => conn.socket.write('ok'), 20);
      });
      const pool = new UpstreamPool({ maxConnections: Infinity });
      try {
        const aborted = await within(
          new Promise<Error>((resolve) => {
            pool.exchange(
              {
                ip: '127.0.0.1',
                port: upstream.port,
                localAddress: undefined,
                method: 'GET',
                path: '/',
                headers: { host: 'upstream.test' },
                hasBody: false,
              },
              {
                onSocket() {},
                onConnected() {},
                onResponse(res) {
                  res.onAborted(resolve);
                  res.onData(() => {
                    throw new Error('consumer bug');
                  });
                },
                onUpgrade() {},
                onError() {},
              },
            );
          }),
          'the abort',
        );
        assert.equal(aborted.message, 'consumer bug');
        await until(() => upstream.connections[0]!.closed, 'the connection closed');
        const next = await drive(pool, { port: upstream.port });
        assert.equal(next.body, 'ok');
        assert.equal(next.reused, false);
      } finally {
        pool.destroy();
        await upstream.close();
      }
    });
  }
});
