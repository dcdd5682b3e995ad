import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from './chunked.js';
import { serializeHeaders } from './head-writer.js';
import { findHeadEnd, parseRequestHead, parseResponseHead, WireError } from './wire.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function request(text: string) {
  const buf = b(text);
  const end = findHeadEnd(buf, 0, 60 * 1024);
  assert.ok(end > 0, 'head not complete');
  return parseRequestHead(buf, 0, end);
}

function refused(fn: () => unknown, kind: 'malformed' | 'headers_too_large' = 'malformed'): void {
  assert.throws(fn, (err: unknown) => err instanceof WireError && err.kind === kind);
}

describe('findHeadEnd', () => {
  it('finds the end of a head split anywhere, and only when complete', () => {
    const text = 'GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY';
    for (let i = 0; i < text.indexOf('BODY'); i++) assert.equal(findHeadEnd(b(text.slice(0, i)), 0, 1024), -1);
    assert.equal(findHeadEnd(b(text), 0, 1024), text.indexOf('BODY'));
    assert.equal(findHeadEnd(b(`xx${text}`), 2, 1024), text.indexOf('BODY') + 2);
  });
  it('refuses a bare LF and a head past the limit', () => {
    refused(() => findHeadEnd(b('GET / HTTP/1.1\nHost: a\r\n\r\n'), 0, 1024));
    refused(() => findHeadEnd(b(`GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}`), 0, 64), 'headers_too_large');
    refused(() => findHeadEnd(b(`GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}\r\n\r\n`), 0, 64), 'headers_too_large');
  });
});

describe('parseRequestHead', () => {
  it('reads the request line, headers as node:http combines them, and framing', () => {
    const h = request(
      'POST http://a.test/x?y HTTP/1.1\r\nHost: a.test\r\nUser-Agent: one\r\nUser-Agent: two\r\nAccept: a\r\n' +
        'Accept: b\r\nCookie: c=1\r\nCookie: d=2\r\nSet-Cookie: s\r\nContent-Length: 3\r\n\r\n',
    );
    assert.equal(h.method, 'POST');
    assert.equal(h.url, 'http://a.test/x?y');
    assert.equal(h.versionMinor, 1);
    assert.equal(h.headers.host, 'a.test');
    assert.equal(h.headers['user-agent'], 'one');
    assert.equal(h.headers.accept, 'a, b');
    assert.equal(h.headers.cookie, 'c=1; d=2');
    assert.deepEqual(h.headers['set-cookie'], ['s']);
    assert.deepEqual(h.framing, { kind: 'length', length: 3 });
    assert.equal(h.rawHeaders[0], 'Host');
    assert.equal(h.keepAlive, true);
  });
  it('knows keep-alive, upgrade and 100-continue', () => {
    assert.equal(request('GET / HTTP/1.1\r\nConnection: Close\r\n\r\n').keepAlive, false);
    assert.equal(request('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
    assert.equal(request('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
    assert.equal(
      request('GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade,
      true,
    );
    assert.equal(request('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n').upgrade, false);
    assert.equal(request('PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n').expectContinue, true);
    assert.deepEqual(request('POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n').framing, {
      kind: 'chunked',
    });
    assert.deepEqual(request('POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n').framing, { kind: 'none' });
  });
  it('looks only at the bytes of the head: a CR ending them is bare, whatever byte follows', () => {
    const buf = b('GET / HTTP/1.1\r\nX: a\r\n');
    refused(() => parseRequestHead(buf, 0, buf.length - 1));
    const res = b('HTTP/1.1 200 OK\r\nX: a\r\n');
    refused(() => parseResponseHead(res, 0, res.length - 1, 'GET'));
  });
  for (const [name, text] of [
    ['CL and TE', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['two Content-Lengths', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n'],
    ['a Content-Length list', 'POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n'],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n'],
    ['TE not ending in chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['space before the colon', 'GET / HTTP/1.1\r\nX : a\r\n\r\n'],
    ['space in a name', 'GET / HTTP/1.1\r\nX Y: a\r\n\r\n'],
    ['no colon', 'GET / HTTP/1.1\r\nXY\r\n\r\n'],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n'],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\n\r\n'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n'],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\n\r\n'],
    ['two Host lines', 'GET / HTTP/1.1\r\nHost: a.test\r\nX: y\r\nhost: b.test\r\n\r\n'],
    ['two Host lines with one value', 'GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nHOST: a.test\r\n\r\n'],
  ] as const) {
    it(`refuses ${name}`, () => refused(() => request(text)));
  }
});

describe('parseResponseHead', () => {
  const response = (text: string, method = 'GET') => {
    const buf = b(text);
    return parseResponseHead(buf, 0, findHeadEnd(buf, 0, 1024), method);
  };
  it('frames by method, status, TE and CL', () => {
    assert.deepEqual(response('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n').framing, { kind: 'length', length: 5 });
    assert.deepEqual(response('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD').framing, { kind: 'none' });
    assert.deepEqual(response('HTTP/1.1 204 No Content\r\n\r\n').framing, { kind: 'none' });
    assert.deepEqual(response('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n').framing, { kind: 'none' });
    assert.deepEqual(response('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').framing, { kind: 'chunked' });
    assert.deepEqual(response('HTTP/1.1 200 OK\r\n\r\n').framing, { kind: 'close' });
    assert.equal(response('HTTP/1.1 200 OK\r\n\r\n').keepAlive, false);
    assert.equal(response('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n').keepAlive, true);
    assert.equal(response('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n').keepAlive, false);
    assert.equal(response('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n').keepAlive, false);
    const r = response('HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n');
    assert.equal(r.statusCode, 301);
    assert.equal(r.statusMessage, 'Moved Permanently');
    assert.equal(response('HTTP/1.1 200\r\n\r\n').statusMessage, '');
  });
  it('refuses conflicting lengths and a bad status line', () => {
    refused(() => response('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n'));
    refused(() => response('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'));
    refused(() => response('HTTP/1.1 2000 OK\r\n\r\n'));
    refused(() => response('ICY 200 OK\r\n\r\n'));
  });
});

describe('ChunkedDecoder', () => {
  const body = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT';
  it('decodes a body split at every byte, and says where it ends', () => {
    const d = new ChunkedDecoder();
    let out = '';
    let end = -1;
    const buf = b(body);
    for (let i = 0; i < buf.length && end < 0; i++) {
      const r = d.decode(buf.subarray(i, i + 1), 0, (p) => (out += p.toString('latin1')));
      if (r >= 0) end = i + r;
    }
    assert.equal(out, 'hello world');
    assert.equal(end, body.indexOf('NEXT'));
  });
  it('decodes a body in one piece', () => {
    let out = '';
    assert.equal(
      new ChunkedDecoder().decode(b(body), 0, (p) => (out += p)),
      body.indexOf('NEXT'),
    );
    assert.equal(out, 'hello world');
    assert.equal(
      new ChunkedDecoder().decode(b('0\r\n\r\n'), 0, () => {}),
      5,
    );
  });
  for (const [name, text] of [
    ['a size that is not hex', 'zz\r\nab\r\n0\r\n\r\n'],
    ['a size that overflows', '10000000000000000\r\n'],
    ['data without its CRLF', '3\r\nabcX0\r\n\r\n'],
    ['a bare LF after the size', '3\nabc\r\n0\r\n\r\n'],
    ['a negative size', '-3\r\nabc\r\n0\r\n\r\n'],
    ['a space inside the size', '3 3\r\nabc\r\n0\r\n\r\n'],
    ['a bad trailer', '0\r\nX : 1\r\n\r\n'],
  ] as const) {
    it(`refuses ${name}`, () => refused(() => new ChunkedDecoder().decode(b(text), 0, () => {})));
  }
});

describe('serializeHeaders', () => {
  it('writes one line per value and refuses a line break', () => {
    assert.equal(serializeHeaders({ a: '1', b: ['2', '3'], c: 4, d: undefined }), 'a: 1\r\nb: 2\r\nb: 3\r\nc: 4\r\n');
    refused(() => serializeHeaders({ a: 'x\r\nInjected: 1' }));
    refused(() => serializeHeaders({ 'a\nb': 'x' }));
  });
});
