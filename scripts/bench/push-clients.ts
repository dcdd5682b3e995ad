// N discovery streams in one process, standing in for N connected proxies. Each notes the bytes that arrive and
// when the last of them did; it decodes nothing (gunzip, JSON.parse and compile are each proxy's own work, done in
// its own process, and are measured apart). The controller's pings, every 10 s on each stream, are told apart by
// their bytes and not counted: with 100 streams they come ten a second, and would never let the pushes look done.
// Run by push.ts as `node push-clients.js CONTROLLER TOKEN N`; on {type: 'mark'} the counts restart, on
// {type: 'report'} they are sent back.
import http from 'node:http';
import { DISCOVERY_PATH, encodeMessage } from '../../src/distribution/index.js';
import { node } from '../../src/snapshot/testing/fixtures.js';

export interface StreamReport {
  /** Bytes received on each stream since the last mark (as sent: compressed where the stream is). */
  readonly bytes: number[];
  /** Date.now() of each stream's last bytes since the mark, 0 for none. */
  readonly lastAt: number[];
  readonly encoding: string;
}

const [, , controller, token, count] = process.argv;
const n = Number(count);
const bytes = new Array<number>(n).fill(0);
const lastAt = new Array<number>(n).fill(0);
let encoding = 'identity';
const PING = { gzip: encodeMessage({ type: 'ping' }, 'gzip'), identity: encodeMessage({ type: 'ping' }, 'identity') };

function open(i: number): void {
  const ip = `127.1.${i >> 8}.${(i & 255) + 1}`;
  const body = JSON.stringify({ node: node('sidecar', 'sleep', 'default', ip, { app: 'sleep' }) });
  const req = http.request(new URL(DISCOVERY_PATH, controller), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      authorization: `Bearer ${token}`,
      'accept-encoding': 'gzip',
    },
  });
  req.on('response', (res) => {
    if (res.statusCode !== 200) {
      console.error(`stream ${i}: HTTP ${res.statusCode}`);
      process.exit(1);
    }
    encoding = res.headers['content-encoding'] ?? 'identity';
    const ping = encoding === 'gzip' ? PING.gzip : PING.identity;
    res.on('data', (chunk: Buffer) => {
      if (chunk.equals(ping)) return;
      bytes[i]! += chunk.length;
      lastAt[i] = Date.now();
    });
  });
  req.on('error', (err) => {
    console.error(`stream ${i}: ${err.message}`);
    process.exit(1);
  });
  req.end(body);
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'mark') {
    bytes.fill(0);
    lastAt.fill(0);
  } else if (m.type === 'report') {
    process.send!({ bytes, lastAt, encoding } satisfies StreamReport);
  }
});
for (let i = 0; i < n; i++) open(i);
