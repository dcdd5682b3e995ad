// The request head upstream, written straight from the parsed headers, is the head the checked object path writes:
// held to it over seeded random requests, and to the checks for what configuration adds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../test/helpers/seeded-random.js';
import { ForwardedHeaders } from './headers.js';
import { serializeHeaders } from './http1/head-writer.js';
import { parseRequestHead, WireError } from './http1/wire.js';

const NAMES = [
  'Host',
  'User-Agent',
  'Accept',
  'accept',
  'Cookie',
  'X-Request-Id',
  'X-Forwarded-For',
  'x-forwarded-proto',
  'Connection',
  'Keep-Alive',
  'TE',
  'Upgrade',
  'X-Custom',
  'x-hop',
  'Set-Cookie',
  'Proxy-Authorization',
  'Content-Type',
];
const CONNECTION_VALUES = ['keep-alive', 'close', 'X-Hop', 'x-hop, X-Custom', 'upgrade', 'keep-alive, te'];

function randomHead(rnd: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const lines = ['Host: a.test'];
  const count = Math.floor(rnd() * 8);
  for (let i = 0; i < count; i++) {
    const name = pick(NAMES);
    if (name === 'Host') continue;
    const value = name === 'Connection' ? pick(CONNECTION_VALUES) : `v${i}${rnd() < 0.2 ? ' , w' : ''}`;
    lines.push(`${name}: ${value}`);
  }
  return `GET /p HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** What the connection manager sets, in its order, some of it each time. */
function decorate(h: ForwardedHeaders, rnd: () => number): void {
  h.set('host', rnd() < 0.5 ? 'a.test' : 'b.test:8080');
  h.set('x-request-id', 'c0ffee');
  if (rnd() < 0.5) h.set('x-forwarded-for', '10.0.0.1');
  if (rnd() < 0.5 || h.get('x-forwarded-proto') === undefined) h.set('x-forwarded-proto', 'http');
  if (rnd() < 0.2) {
    h.set('connection', 'Upgrade');
    h.set('upgrade', 'websocket');
  }
  if (rnd() < 0.3) h.set('x-envoy-original-path', '/p');
}

describe('ForwardedHeaders', () => {
  it('writes what the checked object path writes, for 2,000 random requests', () => {
    const rnd = seededRandom(20261202);
    for (let n = 0; n < 2_000; n++) {
      const text = randomHead(rnd);
      const buf = Buffer.from(text, 'latin1');
      const parsed = parseRequestHead(buf, 0, buf.length);
      const seed = Math.floor(rnd() * 2 ** 31);
      const fast = new ForwardedHeaders(parsed.headers);
      decorate(fast, seededRandom(seed));
      const checked = new ForwardedHeaders(parsed.headers);
      decorate(checked, seededRandom(seed));
      const object = checked.object();
      assert.equal(fast.lines(), serializeHeaders(object), JSON.stringify(text));
      assert.equal(checked.lines(), serializeHeaders(object));
      for (const name of ['host', 'connection', 'upgrade', 'x-hop', 'x-custom', 'accept', 'te']) {
        assert.deepEqual(fast.get(name), object[name], `${name} of ${JSON.stringify(text)}`);
      }
    }
  });

  it('drops hop-by-hop headers and those Connection names, in any case; keeps the rest in the client order', () => {
    const text =
      'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: X-Hop, keep-alive\r\nX-Hop: 1\r\nTE: trailers\r\n' +
      'Accept: a\r\nAccept: b\r\nX-Forwarded-Proto: https\r\n\r\n';
    const buf = Buffer.from(text, 'latin1');
    const h = new ForwardedHeaders(parseRequestHead(buf, 0, buf.length).headers);
    h.set('x-request-id', 'r1');
    h.set('host', 'b.test');
    assert.equal(h.lines(), 'host: b.test\r\naccept: a, b\r\nx-forwarded-proto: https\r\nx-request-id: r1\r\n');
  });

  it('what configuration sets goes through the object, and a value that would break the line is refused', () => {
    const buf = Buffer.from('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n', 'latin1');
    const h = new ForwardedHeaders(parseRequestHead(buf, 0, buf.length).headers);
    h.object()['x-added'] = 'a\r\nX-Smuggled: b';
    assert.throws(
      () => h.lines(),
      (err: unknown) => err instanceof WireError,
    );
    h.set('x-added', 'fine');
    assert.equal(h.lines(), 'host: a.test\r\nx-added: fine\r\n');
  });
});
