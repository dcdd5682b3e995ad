// The codec's server side over real loopback sockets: raw bytes in, raw bytes out, and what the handlers were told.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  type ClientErrorKind,
  type Http1Connection,
  type ServerHandlers,
  type ServerLimits,
  serveHttp1,
} from './server.js';
import { RawClient } from './testing/raw-client.js';
import { SMUGGLING_SHAPES } from './testing/smuggling-shapes.js';
import type { DownstreamRequest, DownstreamResponse } from './types.js';

const LIMITS: ServerLimits = { maxHeaderBytes: 60 * 1024, headersTimeoutMs: undefined, idleTimeoutMs: 60_000 };
const STATUS: Record<ClientErrorKind, string> = {
  malformed: '400 Bad Request',
  headers_too_large: '431 Request Header Fields Too Large',
  request_timeout: '408 Request Timeout',
};

interface Harness {
  readonly port: number;
  /** Requests handed to `request`, in order. */
  readonly seen: DownstreamRequest[];
  readonly errors: { kind: ClientErrorKind; detail: string }[];
  readonly connections: Http1Connection[];
  /** The server side of each connection. */
  readonly sockets: Socket[];
  client(): Promise<RawClient>;
}

const open: (() => void)[] = [];
afterEach(() => {
  for (const close of open.splice(0)) close();
});

async function serve(handlers: Partial<ServerHandlers> = {}, limits: Partial<ServerLimits> = {}): Promise<Harness> {
  const seen: DownstreamRequest[] = [];
  const errors: Harness['errors'] = [];
  const connections: Http1Connection[] = [];
  const sockets: Socket[] = [];
  const clients: RawClient[] = [];
  const all: ServerHandlers = {
    request(req, res) {
      seen.push(req);
      (handlers.request ?? answerAfterBody)(req, res);
    },
    upgrade:
      handlers.upgrade ??
      ((_req, res) => {
        res.writeHead(426, { 'content-length': 0 });
        res.end();
      }),
    connect: handlers.connect ?? ((_req, socket) => socket.destroy()),
    ...(handlers.fault ? { fault: handlers.fault } : {}),
    clientError(kind, detail, socket) {
      errors.push({ kind, detail });
      if (handlers.clientError) handlers.clientError(kind, detail, socket);
      else socket.write(`HTTP/1.1 ${STATUS[kind]}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    },
  };
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    connections.push(serveHttp1(socket, all, { ...LIMITS, ...limits }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  open.push(() => {
    server.close();
    for (const s of sockets) s.destroy();
    for (const c of clients) c.destroy();
  });
  return {
    port,
    seen,
    errors,
    connections,
    sockets,
    async client() {
      const c = await RawClient.open(port);
      clients.push(c);
      return c;
    },
  };
}

/** Reads the whole body, then answers 200 with "METHOD URL BODY" (its length known: no chunking). */
function answerAfterBody(req: DownstreamRequest, res: DownstreamResponse): void {
  const parts: Buffer[] = [];
  req.onData((c) => parts.push(Buffer.from(c)));
  req.onEnd(() => res.end(`${req.method} ${req.url} ${Buffer.concat(parts).toString('latin1')}`));
}

const get = (path: string, more = ''): string => `GET ${path} HTTP/1.1\r\nHost: a.test\r\n${more}\r\n`;
const post = (path: string, body: string, more = ''): string =>
  `POST ${path} HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${body.length}\r\n${more}\r\n${body}`;
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The response bodies in `text`, each answered by answerAfterBody (content-length framed). */
const bodies = (text: string): string[] =>
  text
    .split(/HTTP\/1\.1 \d{3} [^\r]*\r\n/)
    .slice(1)
    .map((r) => {
      const length = Number(/content-length: (\d+)/i.exec(r)?.[1] ?? -1);
      return r.slice(r.indexOf('\r\n\r\n') + 4, r.indexOf('\r\n\r\n') + 4 + length);
    });

describe('request smuggling shapes at the codec', () => {
  for (const [name, bytes] of SMUGGLING_SHAPES) {
    it(`${name}: refused as malformed, nothing smuggled to the handler`, async () => {
      const h = await serve();
      const c = await h.client();
      await c.write(bytes);
      const text = await c.ending();
      assert.match(text, /^HTTP\/1\.1 400 /, `answered: ${JSON.stringify(text.slice(0, 80))}`);
      assert.deepEqual(
        h.errors.map((e) => e.kind),
        ['malformed'],
      );
      assert.ok(h.seen.length <= 1, `the handler saw ${h.seen.map((r) => r.url).join(', ')}`);
      assert.ok(!h.seen.some((r) => r.url.includes('smuggled')));
    });
  }
});

describe('request heads', () => {
  it('a head of exactly the limit is served; one byte more is headers_too_large (431)', async () => {
    const max = 1024;
    const h = await serve({}, { maxHeaderBytes: max });
    const base = get('/', 'X-Pad: \r\n');
    const fits = get('/', `X-Pad: ${'a'.repeat(max - base.length)}\r\n`);
    assert.equal(fits.length, max);
    const c1 = await h.client();
    await c1.write(fits);
    assert.deepEqual(bodies(await c1.responses(1)), ['GET / ']);
    const c2 = await h.client();
    await c2.write(get('/', `X-Pad: ${'a'.repeat(max - base.length + 1)}\r\n`));
    assert.match(await c2.ending(), /^HTTP\/1\.1 431 /);
    assert.deepEqual(
      h.errors.map((e) => e.kind),
      ['headers_too_large'],
    );
  });

  it('a head that never ends is refused once past the limit, even a byte at a time', async () => {
    const h = await serve({}, { maxHeaderBytes: 256 });
    const c = await h.client();
    void c.trickle(`GET / HTTP/1.1\r\nX: ${'a'.repeat(400)}`).catch(() => {});
    assert.match(await c.ending(), /^HTTP\/1\.1 431 /);
    assert.equal(h.seen.length, 0);
  });

  it('a head sent a byte at a time, with its leading empty lines, is parsed whole', async () => {
    const h = await serve();
    const c = await h.client();
    await c.trickle(`\r\n\r\n${get('/slow', 'X-A: 1\r\nX-B: 2\r\n')}`);
    assert.deepEqual(bodies(await c.responses(1)), ['GET /slow ']);
    assert.equal(h.seen[0]!.headers['x-b'], '2');
    assert.deepEqual(h.seen[0]!.rawHeaders, ['Host', 'a.test', 'X-A', '1', 'X-B', '2']);
  });

  it('empty lines between pipelined requests are skipped, a CR and its LF split across reads too', async () => {
    const h = await serve();
    const c = await h.client();
    await c.write(`\r\n${get('/one')}\r\n\r\n${get('/two')}\r`);
    await c.responses(2);
    await delay(20);
    await c.write(`\n${get('/three')}`);
    assert.deepEqual(bodies(await c.responses(3)), ['GET /one ', 'GET /two ', 'GET /three ']);
    assert.equal(h.errors.length, 0);
  });

  it('a header timeout: 408 for a head begun and not finished, and for a first request never sent', async () => {
    const h = await serve({}, { headersTimeoutMs: 100 });
    const partial = await h.client();
    await partial.write('GET / HTTP/1.1\r\nHost: a');
    const silent = await h.client();
    assert.match(await partial.ending(), /^HTTP\/1\.1 408 /);
    assert.match(await silent.ending(), /^HTTP\/1\.1 408 /);
    assert.deepEqual(
      h.errors.map((e) => e.kind),
      ['request_timeout', 'request_timeout'],
    );
  });

  it('a kept-alive connection idle between requests is closed silently after the idle timeout', async () => {
    const h = await serve({}, { headersTimeoutMs: 50, idleTimeoutMs: 300 });
    const c = await h.client();
    await c.write(get('/'));
    const answered = await c.responses(1);
    const started = Date.now();
    // Past the header timeout: the connection is idle, not late with a head.
    await delay(150);
    assert.equal(c.ended, false);
    const text = await c.ending();
    assert.ok(Date.now() - started >= 250, `closed after ${Date.now() - started} ms`);
    assert.equal(text, answered, 'nothing is written when an idle connection closes');
    assert.equal(h.errors.length, 0);
  });

  it('a head begun on a kept-alive connection is timed again', async () => {
    const h = await serve({}, { headersTimeoutMs: 100 });
    const c = await h.client();
    await c.write(get('/'));
    await c.responses(1);
    await delay(150);
    await c.write('GET /late HTTP/1.1\r\n');
    assert.match(await c.ending(), /HTTP\/1\.1 408 /);
    assert.deepEqual(
      h.errors.map((e) => e.kind),
      ['request_timeout'],
    );
  });

  it('the connection closing in the middle of a head is malformed', async () => {
    const h = await serve();
    const c = await h.client();
    await c.write('GET / HTTP/1.1\r\nHost: a');
    c.socket.end();
    assert.match(await c.ending(), /^HTTP\/1\.1 400 /);
    assert.equal(h.seen.length, 0);
  });
});

describe('a handler that throws', () => {
  it('costs its own connection only: the error is reported, other connections and later ones are served', async () => {
    const faults: unknown[] = [];
    let closed = false;
    const h = await serve({
      request(req, res) {
        if (req.url !== '/boom') return answerAfterBody(req, res);
        res.on('close', () => (closed = true));
        throw new Error('handler bug');
      },
      fault: (err) => faults.push(err),
    });
    const other = await h.client();
    await other.write(post('/before', 'a'));
    await other.responses(1);
    const victim = await h.client();
    await victim.write(get('/boom'));
    await victim.ending();
    assert.ok(victim.ended || victim.closed, 'the connection is closed');
    assert.equal((faults[0] as Error).message, 'handler bug');
    assert.ok(closed, 'the response closes, unfinished');
    await other.write(post('/after', 'b'));
    await other.responses(2);
    const later = await h.client();
    await later.write(get('/later'));
    await later.responses(1);
    assert.deepEqual(bodies(other.text), ['POST /before a', 'POST /after b']);
    assert.deepEqual(bodies(later.text), ['GET /later ']);
  });
});

describe('a response observer that throws', () => {
  for (const moment of ['responseFinished', 'responseClosed'] as const) {
    it(`in ${moment}: costs its own connection only, and the fault is reported`, async () => {
      const faults: unknown[] = [];
      const h = await serve({
        request(req, res) {
          if (req.url === '/boom') {
            res.observer = {
              responseFinished: () => {
                if (moment === 'responseFinished') throw new Error('observer bug');
              },
              responseClosed: () => {
                if (moment === 'responseClosed') throw new Error('observer bug');
              },
              responseDrained: () => {},
            };
            // For 'close', the client goes away under an unfinished response.
            if (moment === 'responseClosed') res.write(Buffer.from('partial'));
            else res.end('done');
            return;
          }
          answerAfterBody(req, res);
        },
        fault: (err) => faults.push(err),
      });
      const victim = await h.client();
      await victim.write(get('/boom'));
      if (moment === 'responseClosed') {
        await victim.until((t) => t.includes('partial'));
        victim.destroy();
      } else await victim.ending();
      await delay(30);
      assert.equal((faults[0] as Error | undefined)?.message, 'observer bug');
      const later = await h.client();
      await later.write(get('/later'));
      await later.responses(1);
      assert.deepEqual(bodies(later.text), ['GET /later ']);
    });
  }
});

describe('keep-alive and pipelining', () => {
  it('serves sequential requests on one connection', async () => {
    const h = await serve();
    const c = await h.client();
    for (let i = 1; i <= 3; i++) {
      await c.write(post(`/${i}`, `body${i}`));
      await c.responses(i);
    }
    assert.deepEqual(bodies(c.text), ['POST /1 body1', 'POST /2 body2', 'POST /3 body3']);
    assert.equal(h.connections.length, 1);
    assert.equal(h.connections[0]!.served, true);
    assert.equal(h.connections[0]!.inFlight, 0);
    assert.equal(c.ended, false);
  });

  it('answers pipelined requests in order, each one handed over once the previous response finished', async () => {
    const log: string[] = [];
    const h = await serve({
      request(req, res) {
        log.push(`request ${req.url}`);
        res.once('finish', () => log.push(`finish ${req.url}`));
        // The first answer is the slowest: order must come from the codec.
        setTimeout(() => res.end(req.url), req.url === '/1' ? 50 : 5);
      },
    });
    const c = await h.client();
    await c.write(get('/1') + post('/2', 'xx') + get('/3'));
    const text = await c.responses(3);
    assert.deepEqual(
      [...text.matchAll(/\r\n\r\n(\/\d)/g)].map((m) => m[1]),
      ['/1', '/2', '/3'],
    );
    assert.deepEqual(log, ['request /1', 'finish /1', 'request /2', 'finish /2', 'request /3', 'finish /3']);
  });

  it('a body the handler never read is dropped, and the next request is still served', async () => {
    const h = await serve({
      request(req, res) {
        if (req.url === '/early') res.end('early');
        else answerAfterBody(req, res);
      },
    });
    const c = await h.client();
    // The body looks like a request: it must be read as body, never parsed as one. It is larger than what the
    // codec holds for a reader, so it only gets through by being dropped.
    const body = get('/smuggled') + 'x'.repeat(300_000);
    await c.write(`POST /early HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await c.responses(1);
    await c.write(body.slice(10) + get('/next'));
    const text = await c.responses(2);
    assert.deepEqual(
      h.seen.map((r) => r.url),
      ['/early', '/next'],
    );
    assert.match(text, /GET \/next $/);
  });

  it('a chunked body, unread by a reader that paused, is discarded the same way', async () => {
    const h = await serve({
      request(req, res) {
        req.pause();
        res.end(req.url);
      },
    });
    const c = await h.client();
    await c.write('POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    await c.responses(1);
    await c.write(`3\r\nabc\r\n0\r\n\r\n${get('/b')}`);
    await c.responses(2);
    assert.deepEqual(
      h.seen.map((r) => r.url),
      ['/a', '/b'],
    );
  });
});

describe('request bodies', () => {
  it('decodes a chunked body split at every byte, with a trailer', async () => {
    const h = await serve();
    const c = await h.client();
    await c.trickle(
      'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=x\r\n \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n',
    );
    assert.deepEqual(bodies(await c.responses(1)), ['POST /c hello world']);
    assert.equal(h.seen[0]!.complete, true);
  });

  it('a paused reader stops the socket being read; resume() reads the rest, in order', async () => {
    const size = 4 * 1024 * 1024;
    let pausedAt = 0;
    let resume = (): void => {};
    let received = 0;
    let ok = true;
    const h = await serve({
      request(req, res) {
        req.onData((c) => {
          for (let i = 0; i < c.length; i++) if (c[i] !== (received + i) % 251) ok = false;
          received += c.length;
          if (pausedAt === 0 && received > 100_000) {
            pausedAt = received;
            req.pause();
            resume = () => req.resume();
          }
        });
        req.onEnd(() => res.end(String(received)));
      },
    });
    const c = await h.client();
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = i % 251;
    void c.write(`POST / HTTP/1.1\r\nContent-Length: ${size}\r\n\r\n`);
    void c.write(body).catch(() => {});
    await delay(300);
    const readWhilePaused = h.sockets[0]!.bytesRead;
    assert.ok(pausedAt > 0);
    assert.equal(received, pausedAt, 'no data is delivered while paused');
    assert.ok(readWhilePaused < size / 2, `read ${readWhilePaused} bytes while paused`);
    resume();
    assert.deepEqual(bodies(await c.responses(1)), [String(size)]);
    assert.equal(received, size);
    assert.ok(ok, 'bytes out of order');
  });

  it('pipelined bytes buffered behind a slow response are bounded: the socket stops being read', async () => {
    let answer = (): void => {};
    const h = await serve({
      request(req, res) {
        if (req.url === '/slow') answer = () => res.end('slow');
        else res.end('x');
      },
    });
    const c = await h.client();
    const many = get('/next').repeat(40_000); // ~1.1 MB of pipelined requests
    void c.write(get('/slow') + many).catch(() => {});
    await delay(300);
    assert.ok(h.sockets[0]!.bytesRead < many.length / 2, `read ${h.sockets[0]!.bytesRead} bytes`);
    answer();
    await c.responses(40_001, 10_000);
    assert.equal(h.seen.length, 40_001);
  });

  it('Expect: 100-continue is answered before the request is handed over', async () => {
    const h = await serve();
    const c = await h.client();
    await c.write('PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n');
    assert.equal(await c.until((t) => t.length >= 25), 'HTTP/1.1 100 Continue\r\n\r\n');
    await c.write('abc');
    assert.deepEqual(bodies((await c.responses(1)).slice(25)), ['PUT /x abc']);
  });

  it('the client closing mid-body: the request is aborted, the response closes without finishing', async () => {
    let aborted = 0;
    let reason = '';
    let resClosed = 0;
    let finished = false;
    let res!: DownstreamResponse;
    const h = await serve({
      request(req, r) {
        res = r;
        req.onData(() => {});
        req.onAborted((err) => {
          aborted++;
          reason = err.message;
        });
        req.onEnd(() => r.end('never'));
        r.on('close', () => resClosed++);
        r.on('finish', () => (finished = true));
      },
    });
    const c = await h.client();
    await c.write('POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789');
    await delay(30);
    c.destroy();
    await delay(50);
    assert.equal(aborted, 1);
    assert.match(reason, /before the request body was complete/);
    assert.equal(resClosed, 1);
    assert.equal(finished, false);
    assert.equal(res.writableFinished, false);
    assert.equal(res.destroyed, true);
    assert.equal(h.seen[0]!.complete, false);
    assert.equal(h.connections[0]!.inFlight, 0);
  });

  for (const leaving of ['ends its side', 'closes'] as const) {
    it(`a client that ${leaving} before its response ends cuts the exchange: close without finish`, async () => {
      const heard: string[] = [];
      let handled!: () => void;
      const started = new Promise<void>((resolve) => (handled = resolve));
      const h = await serve({
        request(_req, res) {
          res.observer = {
            responseFinished: () => heard.push('observer finish'),
            responseClosed: () => heard.push('observer close'),
            responseDrained: () => heard.push('observer drain'),
          };
          res.on('finish', () => heard.push('event finish'));
          res.on('close', () => heard.push('event close'));
          res.writeHead(200, {});
          res.write(Buffer.from('partial'));
          handled();
        },
      });
      const c = await h.client();
      await c.write(get('/'));
      await started;
      if (leaving === 'ends its side') {
        c.socket.end();
        await c.ending();
      } else c.socket.destroy();
      await delay(50);
      assert.deepEqual(heard, ['observer close', 'event close']);
    });
  }

  it('a half-close mid-chunked-body cuts the exchange: abort, and the response closes', async () => {
    let aborted = false;
    let closed = false;
    const h = await serve({
      request(req, res) {
        req.onData(() => {});
        req.onAborted(() => (aborted = true));
        res.on('close', () => (closed = true));
      },
    });
    const c = await h.client();
    await c.write('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
    c.socket.end();
    await c.ending();
    assert.ok(aborted);
    assert.ok(closed);
  });
});

describe('responses', () => {
  it('writeHead then end(body) leave in one socket write, with a date and the caller content-length', async () => {
    let writes = 0;
    const h = await serve({
      request(req, res) {
        const socket = req.socket;
        const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
        (socket as { write: unknown }).write = (...args: unknown[]) => {
          writes++;
          return write(...args);
        };
        res.writeHead(301, { location: 'http://b.test/', 'content-length': 5 });
        res.end(Buffer.from('moved'));
      },
    });
    const c = await h.client();
    await c.write(get('/'));
    const text = await c.until((t) => t.endsWith('moved'));
    assert.equal(writes, 1);
    assert.match(text, /^HTTP\/1\.1 301 Moved Permanently\r\nlocation: http:\/\/b\.test\/\r\ncontent-length: 5\r\n/);
    assert.match(text, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n\r\nmoved$/);
    assert.doesNotMatch(text, /connection|keep-alive|transfer-encoding/i);
  });

  it('without a content-length the body is chunked; a date given is kept', async () => {
    const h = await serve({
      request(_req, res) {
        res.writeHead(200, { date: 'then' });
        res.write(Buffer.from('ab'));
        res.write(Buffer.alloc(0));
        res.write(Buffer.from('c'.repeat(20_000)));
        res.end('d');
      },
    });
    const c = await h.client();
    await c.write(get('/'));
    const text = await c.until((t) => t.endsWith('0\r\n\r\n'));
    assert.equal(
      text,
      `HTTP/1.1 200 OK\r\ndate: then\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n4e20\r\n${'c'.repeat(20_000)}\r\n1\r\nd\r\n0\r\n\r\n`,
    );
  });

  for (const [name, request, status] of [
    ['HEAD', 'HEAD / HTTP/1.1\r\n\r\n', 200],
    ['204', get('/'), 204],
    ['304', get('/'), 304],
  ] as const) {
    it(`${name}: no body and no chunking, and the connection goes on`, async () => {
      const h = await serve({
        request(req, res) {
          if (req.url === '/next') return answerAfterBody(req, res);
          res.writeHead(status, {});
          res.end('ignored');
        },
      });
      const c = await h.client();
      await c.write(request + get('/next'));
      const text = await c.responses(2);
      const first = text.slice(0, text.indexOf('HTTP/1.1', 1));
      assert.match(first, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.ok(first.endsWith('\r\n\r\n'), JSON.stringify(first));
      assert.doesNotMatch(first, /transfer-encoding|ignored/i);
      assert.deepEqual(bodies(text).slice(1), ['GET /next ']);
    });
  }

  it('a request with Connection: close gets Connection: close and the connection ends', async () => {
    const h = await serve();
    const c = await h.client();
    await c.write(get('/', 'Connection: close\r\n') + get('/never'));
    const text = await c.ending();
    assert.match(text, /\r\nConnection: close\r\n/);
    assert.deepEqual(bodies(text), ['GET / ']);
    assert.equal(h.seen.length, 1);
  });

  it('a response that says it closes (shouldKeepAlive false, or its own header) ends the connection', async () => {
    for (const answer of [
      (res: DownstreamResponse) => {
        res.shouldKeepAlive = false;
        res.end('x');
      },
      (res: DownstreamResponse) => {
        res.writeHead(200, { connection: 'close', 'content-length': 1 });
        res.end('x');
      },
    ]) {
      const h = await serve({ request: (_req, res) => answer(res) });
      const c = await h.client();
      await c.write(get('/') + get('/never'));
      const text = await c.ending();
      assert.equal(text.match(/connection: close/gi)?.length, 1);
      assert.equal(h.seen.length, 1);
    }
  });

  it('HTTP/1.0: answered, with Connection: close, a body without length runs to the close', async () => {
    const h = await serve({
      request(req, res) {
        res.writeHead(426, {});
        res.end(`upgrade from ${req.httpVersion}`);
      },
    });
    const c = await h.client();
    await c.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const text = await c.ending();
    assert.match(text, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(text, /\r\nConnection: close\r\n\r\nupgrade from 1\.0$/);
    assert.doesNotMatch(text, /transfer-encoding/i);
  });

  it('drain, finish and close reach the response once each when the client catches up, its observer first', async () => {
    const heard: string[] = [];
    let full = false;
    const h = await serve({
      request(_req, res) {
        res.observer = {
          responseFinished: () => heard.push('observer finish'),
          responseClosed: () => heard.push('observer close'),
          responseDrained: () => {
            heard.push('observer drain');
            res.end();
          },
        };
        res.on('drain', () => heard.push('event drain'));
        res.on('finish', () => heard.push('event finish'));
        res.on('close', () => heard.push('event close'));
        res.writeHead(200, {});
        const piece = Buffer.alloc(1024 * 1024, 120);
        let n = 0;
        while (res.write(piece) && ++n < 64);
        full = n < 64;
      },
    });
    const c = await h.client();
    c.socket.pause();
    await c.write(get('/'));
    await delay(100);
    assert.ok(full, 'the connection buffer never filled');
    c.socket.resume();
    await c.until((t) => t.endsWith('\r\n0\r\n\r\n'), 10_000);
    await delay(20);
    assert.deepEqual(heard, [
      'observer drain',
      'event drain',
      'observer finish',
      'event finish',
      'observer close',
      'event close',
    ]);
  });

  it('a response written to after it ended (or after the connection moved on) writes nothing', async () => {
    let first: DownstreamResponse | undefined;
    const h = await serve({
      request(req, res) {
        if (req.url === '/1') {
          first = res;
          res.end('one');
          res.end('again');
          return;
        }
        first!.write(Buffer.from('stale'));
        first!.end('stale');
        setTimeout(() => res.end('two'), 10);
      },
    });
    const c = await h.client();
    await c.write(get('/1') + get('/2'));
    const text = await c.responses(2);
    await delay(20);
    assert.deepEqual(bodies(c.text), ['one', 'two']);
    assert.doesNotMatch(text, /again|stale/);
  });

  it('a malformed chunk after the response started: no 400 inside it, the request aborts, the connection closes', async () => {
    let reason = '';
    const h = await serve({
      request(req, res) {
        res.writeHead(200, { 'content-length': 10 });
        res.write(Buffer.from('01234'));
        req.onData(() => {});
        req.onAborted((err) => (reason = err.message));
      },
    });
    const c = await h.client();
    await c.write('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    await c.until((t) => t.endsWith('01234'));
    await c.write('zz\r\n');
    assert.match(await c.ending(), /\r\n\r\n01234$/);
    assert.equal(h.errors.length, 0);
    assert.match(reason, /invalid chunk size/);
  });

  it('destroy() cuts the connection: the client sees the response end early', async () => {
    const h = await serve({
      request(_req, res) {
        res.writeHead(200, { 'content-length': 10 });
        res.write(Buffer.from('abc'));
        res.destroy();
      },
    });
    const c = await h.client();
    await c.write(get('/'));
    const text = await c.ending();
    assert.match(text, /\r\n\r\nabc$/);
  });
});

describe('hand-offs', () => {
  it('upgrade: the socket and the bytes past the head go to the handler, which tunnels', async () => {
    let head = '';
    const h = await serve({
      upgrade(_req, _res, rest) {
        head = rest.toString('latin1');
        // Bypasses res, as the plane does after an upstream 101.
        const socket = h.sockets[0]!;
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
        socket.on('data', (d: Buffer) => socket.write(d.toString('latin1').toUpperCase()));
      },
    });
    const c = await h.client();
    await c.write('GET /ws HTTP/1.1\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nearly');
    await c.until((t) => t.includes('\r\n\r\n'));
    await c.write('GET / HTTP/1.1\r\n\r\n');
    await c.until((t) => t.endsWith('GET / HTTP/1.1\r\n\r\n'.toUpperCase()));
    assert.equal(head, 'early');
    assert.equal(h.seen.length, 0, 'no request was parsed after the hand-off');
  });

  it('upgrade refused through res: Connection: close, and its finish ends the socket', async () => {
    const h = await serve();
    const c = await h.client();
    await c.write('GET /ws HTTP/1.1\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
    const text = await c.ending();
    assert.match(
      text,
      /^HTTP\/1\.1 426 Upgrade Required\r\ncontent-length: 0\r\nDate: [^\r]+\r\nConnection: close\r\n\r\n$/,
    );
  });

  it('CONNECT: the socket and the bytes past the head go to the handler', async () => {
    let head = '';
    let target = '';
    const h = await serve({
      connect(req, socket, rest) {
        head = rest.toString('latin1');
        target = req.url;
        socket.write('HTTP/1.1 200 OK\r\n\r\n');
        socket.pipe(socket);
      },
    });
    const c = await h.client();
    await c.write('CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\nhello');
    await c.until((t) => t.endsWith('\r\n\r\n'));
    await c.write('GET / HTTP/1.1\r\n\r\n');
    await c.until((t) => t.endsWith('GET / HTTP/1.1\r\n\r\n'));
    assert.equal(head, 'hello');
    assert.equal(target, 'a.test:443');
    assert.equal(h.seen.length, 0);
  });
});

describe('closeWhenIdle', () => {
  it('closes an idle connection now, silently', async () => {
    const h = await serve();
    const c = await h.client();
    await c.write(get('/'));
    const answered = await c.responses(1);
    h.connections[0]!.closeWhenIdle();
    assert.equal(await c.ending(500), answered);
  });

  it('on a busy connection: the response in flight says Connection: close, then the connection ends', async () => {
    let answer = (): void => {};
    let res!: DownstreamResponse;
    const h = await serve({
      request(_req, r) {
        res = r;
        answer = () => r.end('done');
      },
    });
    const c = await h.client();
    await c.write(get('/') + get('/never'));
    await delay(20);
    const conn = h.connections[0]!;
    assert.equal(conn.inFlight, 1);
    assert.equal(res.shouldKeepAlive, true);
    conn.closeWhenIdle();
    assert.equal(res.shouldKeepAlive, false);
    answer();
    const text = await c.ending();
    assert.match(text, /\r\nConnection: close\r\n\r\ndone$/);
    assert.equal(h.seen.length, 1);
    assert.equal(conn.inFlight, 0);
    assert.equal(conn.served, true);
  });
});
