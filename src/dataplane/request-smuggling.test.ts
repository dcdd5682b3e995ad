// Request smuggling at the listener: each shape a front end and a back end might frame differently is refused
// before any byte of it can reach upstream as a request of its own. The table is the conformance bar for the HTTP
// codec: whatever parses requests at the listener must pass it, as Node's llhttp did before tollgate's own codec
// replaced it. The same table holds the codec on its own (http1/server.test.ts).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ProxyConfig } from '../proxy-config/types.js';
import { SMUGGLING_HOST, SMUGGLING_SHAPES as SHAPES, smugglingHead } from './http1/testing/smuggling-shapes.js';
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

const HOST = SMUGGLING_HOST;
const head = smugglingHead;

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
