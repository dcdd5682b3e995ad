import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeId, type NodeIdentity, type ProxyConfig } from '../proxy-config/types.js';
import { createGunzip, gunzipSync } from 'node:zlib';
import { encodeConfigMessage, encodeMessage, LineSplitter } from './protocol.js';

const sleepAt = (ip: string): NodeIdentity => ({
  id: nodeId('sidecar', ip, 'sleep', 'default'),
  type: 'sidecar',
  name: 'sleep',
  namespace: 'default',
  ip,
  labels: { app: 'sleep' },
  serviceAccount: 'sleep',
});

const config = (ip: string, shared: Pick<ProxyConfig, 'routeConfigs' | 'clusters'>): ProxyConfig => ({
  version: '7',
  node: sleepAt(ip),
  listeners: [],
  ...shared,
  accessLog: { enabled: true, path: '/dev/stdout', encoding: 'JSON' },
  pathNormalization: 'MERGE_SLASHES',
  identity: { certificateChain: 'chain "quoted"', trustedCa: 'ca' },
});

test('a config message parses back to the message, for each proxy sharing the lists', () => {
  const shared: Pick<ProxyConfig, 'routeConfigs' | 'clusters'> = {
    routeConfigs: [{ name: '80', virtualHosts: [] }],
    clusters: [
      {
        name: 'outbound|80||a.example.com',
        type: 'STRICT_DNS',
        endpoints: [{ address: 'a.example.com', port: 80 }],
        connectTimeoutMs: 10_000,
        lbPolicy: 'ROUND_ROBIN',
        metadata: { serviceName: 'a.example.com' },
      },
    ],
  };
  for (const encoding of ['identity', 'gzip'] as const) {
    for (const ip of ['10.0.0.1', '10.0.0.2']) {
      const c = config(ip, shared);
      const pieces = encodeConfigMessage('7', c, encoding);
      // gzip: a sequence of members, which a gunzip stream reads as one body.
      const bytes = encoding === 'gzip' ? gunzipSync(Buffer.concat(pieces)) : Buffer.concat(pieces);
      const text = bytes.toString();
      assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, 'one line of the stream');
      assert.deepEqual(JSON.parse(text), { type: 'config', version: '7', config: c });
    }
  }
});

test('the shared lists are encoded once for every proxy that receives them', () => {
  const shared: Pick<ProxyConfig, 'routeConfigs' | 'clusters'> = { routeConfigs: [], clusters: [] };
  const a = encodeConfigMessage('7', config('10.0.0.1', shared), 'gzip');
  const b = encodeConfigMessage('7', config('10.0.0.2', shared), 'gzip');
  assert.equal(a[1], b[1]);
  assert.equal(a[3], b[3]);
});

test('a gzip stream of messages decompresses message by message, as they arrive', async () => {
  const gunzip = createGunzip();
  const lines = new LineSplitter();
  const waiting: ((line: string) => void)[] = [];
  gunzip.setEncoding('utf8');
  gunzip.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) waiting.shift()?.(line);
  });
  const next = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  // The stream stays open: each message must come out whole before the next is even written.
  const first = next();
  gunzip.write(encodeMessage({ type: 'session', session: 's1' }, 'gzip'));
  assert.equal(await first, '{"type":"session","session":"s1"}');
  const second = next();
  gunzip.write(encodeMessage({ type: 'ping' }, 'gzip'));
  assert.equal(await second, '{"type":"ping"}');
  gunzip.end();
});

test('a line longer than the limit is refused, not held: the splitter throws and starts afresh', () => {
  const lines = new LineSplitter(10);
  assert.deepEqual(lines.push('abc'), []);
  assert.throws(() => lines.push('defghijkl'), /longer than 10 characters/);
  assert.deepEqual(lines.push('ok\n'), ['ok'], 'the cut tail is gone');
});
