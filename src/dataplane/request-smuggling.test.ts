// Request smuggling at the listener: each shape a front end and a back end might frame differently is refused
// before any byte of it can reach upstream as a request of its own. The table is the conformance bar for the HTTP
// codec: whatever parses requests at the listener must pass it as Node's llhttp does today.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ProxyConfig } from '../proxy-config/types.js';
import {
  anyMatch,
  cluster,
  type Harness,
  send,
  sidecarConfig,
  startPlane,
  startUpstream,
  type Upstream,
  vhost,
} from './testing/fixtures.js';

/**
 * Writes the bytes (the connection stays open, as a client's would) and returns what the proxy answered by the time
 * it closed the connection, or went quiet for a while.
 */
function raw(port: number, bytes: string, quietMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let data = '';
    let timer = setTimeout(done, quietMs);
    function done(): void {
      socket.destroy();
      resolve(data);
    }
    socket.on('data', (c) => {
      data += c.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(done, 200);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on('error', reject);
  });
}

const HOST = 'site.test';
const head = (method: string, lines: readonly string[]): string =>
  `${method} http://${HOST}/ HTTP/1.1\r\nHost: ${HOST}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
/** The request a smuggling attempt hides in a body, and that upstream must never see as a request. */
const SMUGGLED = `GET http://${HOST}/smuggled HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;

/** [name, the bytes]: each must get a 400 (or a close) and must not reach upstream as /smuggled. */
const SHAPES: readonly (readonly [string, string])[] = [
  [
    'CL.TE: Content-Length and chunked',
    `${head('POST', ['Content-Length: 6', 'Transfer-Encoding: chunked'])}0\r\n\r\n${SMUGGLED}`,
  ],
  [
    'TE.CL: chunked and Content-Length',
    `${head('POST', ['Transfer-Encoding: chunked', 'Content-Length: 4'])}5c\r\n${SMUGGLED}0\r\n\r\n`,
  ],
  [
    'duplicate Content-Length, different values',
    `${head('POST', ['Content-Length: 0', 'Content-Length: 45'])}${SMUGGLED}`,
  ],
  ['Content-Length with a list of values', `${head('POST', ['Content-Length: 0, 45'])}${SMUGGLED}`],
  ['Content-Length with a sign', `${head('POST', ['Content-Length: +45'])}${SMUGGLED}`],
  [
    'obs-fold continuing Transfer-Encoding',
    `${head('POST', ['Content-Length: 0', 'Transfer-Encoding: x', ' chunked'])}${SMUGGLED}`,
  ],
  ['space before the colon', `${head('POST', ['Transfer-Encoding : chunked', 'Content-Length: 0'])}${SMUGGLED}`],
  ['space inside a header name', `${head('POST', ['Content Length: 0'])}${SMUGGLED}`],
  [
    'bare LF ending a header line',
    `POST http://${HOST}/ HTTP/1.1\r\nHost: ${HOST}\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
  ],
  [
    'bare CR inside a header value',
    `${head('POST', ['X-A: a\rTransfer-Encoding: chunked', 'Content-Length: 0'])}${SMUGGLED}`,
  ],
  ['NUL in a header value', `${head('POST', ['X-A: a\u0000b', 'Content-Length: 0'])}${SMUGGLED}`],
  ['chunk size that is not hex', `${head('POST', ['Transfer-Encoding: chunked'])}zz\r\n${SMUGGLED}0\r\n\r\n`],
  [
    'chunk size that overflows',
    `${head('POST', ['Transfer-Encoding: chunked'])}10000000000000000\r\n${SMUGGLED}0\r\n\r\n`,
  ],
  ['chunk without its CRLF', `${head('POST', ['Transfer-Encoding: chunked'])}3\r\nabcX${SMUGGLED}0\r\n\r\n`],
  ['Transfer-Encoding not ending in chunked', `${head('POST', ['Transfer-Encoding: chunked, identity'])}${SMUGGLED}`],
  [
    'request line with a bare LF',
    `POST http://${HOST}/ HTTP/1.1\nHost: ${HOST}\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
  ],
];

describe('request smuggling shapes at the sidecar listener', () => {
  let upstream: Upstream;
  let h: Harness;
  before(async () => {
    upstream = await startUpstream((req, res) => res.end(`upstream saw ${req.url}`));
    const config: ProxyConfig = sidecarConfig({
      routeConfigs: [
        {
          name: '80',
          virtualHosts: [
            vhost(
              `${HOST}:80`,
              [HOST],
              [
                {
                  name: 'all',
                  match: anyMatch,
                  action: { kind: 'cluster', clusters: [{ cluster: 'site', weight: 100 }] },
                },
              ],
            ),
          ],
        },
      ],
      clusters: [cluster('site', 'STATIC', [{ address: '127.0.0.1', port: upstream.port }])],
    });
    h = await startPlane(config);
  });
  after(async () => {
    await h.close();
    await upstream.close();
  });

  for (const [name, bytes] of SHAPES) {
    it(`${name}: 400, and nothing smuggled upstream`, async () => {
      const answer = await raw(h.port(), bytes);
      assert.match(answer, /^HTTP\/1\.1 400 /, `answered: ${JSON.stringify(answer.slice(0, 80))}`);
      assert.doesNotMatch(answer, /upstream saw \/smuggled/);
      assert.ok(!upstream.seen.some((r) => r.url.includes('smuggled')), 'upstream saw the smuggled request');
    });
  }

  it('the same listener still serves a well-formed request with a body, framed either way', async () => {
    const chunked = await raw(h.port(), `${head('POST', ['Transfer-Encoding: chunked'])}3\r\nabc\r\n0\r\n\r\n`);
    assert.match(chunked, /^HTTP\/1\.1 200 /);
    const byLength = await send(h.port(), `http://${HOST}/`, { method: 'POST', body: 'abc' });
    assert.equal(byLength.status, 200);
    assert.equal(upstream.seen.at(-1)!.body, 'abc');
  });
});
