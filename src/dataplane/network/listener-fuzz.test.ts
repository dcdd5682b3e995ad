// Raw bytes into every listener kind: mutations of real HTTP requests, CONNECTs and ClientHellos (bit flips,
// truncations, insertions, splices), with a fixed seed and budget so CI runs the same cases every time. Each
// connection must be answered or closed in bounded time, the process must see no uncaught error, and every listener
// must serve a normal request afterwards. TOLLGATE_FUZZ_SEED and TOLLGATE_FUZZ_CASES replay or widen a run.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import type { ProxyConfig } from '../../proxy-config/types.js';
import {
  blackholeChain,
  cluster,
  clusterRoute,
  gatewayConfig,
  type Harness,
  send,
  sidecarConfig,
  startPlane,
  startUpstream,
  tcpChain,
  testNode,
  type Upstream,
  vhost,
} from '../testing/fixtures.js';
import { serverCertificate, startTlsUpstream, type TlsUpstream } from '../testing/tls-fixtures.js';

const SEED = Number(process.env.TOLLGATE_FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.TOLLGATE_FUZZ_CASES ?? 360);
/** How long a connection may stay open after the fuzzer has sent its bytes and half-closed. */
const SETTLE_MS = 3_000;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function capturedClientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const hello = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', resolve)));
  const client = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

function mutate(seed: Buffer, rnd: () => number, corpus: readonly Buffer[]): Buffer {
  let b = Buffer.from(seed);
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 6)) {
      case 0: // flip a bit
        if (b.length > 0) b[at % b.length]! ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: // insert random bytes
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256))),
          b.subarray(at),
        ]);
        break;
      case 3: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 8))]);
        break;
      case 4: // splice in part of another seed
        {
          const other = corpus[Math.floor(rnd() * corpus.length)]!;
          const from = Math.floor(rnd() * other.length);
          b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + 1 + Math.floor(rnd() * 64))]);
        }
        break;
      case 5: {
        // repeat a run (oversized fields, duplicated headers)
        const run = b.subarray(at, at + 1 + Math.floor(rnd() * 200));
        const times = 1 + Math.floor(rnd() * 50);
        if (run.length * times < 100_000) b = Buffer.concat([b, ...Array<Buffer>(times).fill(run)]);
        break;
      }
    }
  }
  return b;
}

/** Sends the bytes, half-closes, and resolves with how the connection ended. */
function probe(port: number, bytes: Buffer): Promise<'closed' | 'stuck'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      resolve('stuck');
    }, SETTLE_MS);
    const done = (): void => {
      clearTimeout(timer);
      resolve('closed');
    };
    s.on('error', () => {});
    s.on('data', () => {});
    s.once('close', done);
    // The server may answer and close while the bytes are still being written: that is fine.
    s.once('connect', () => s.end(bytes));
  });
}

describe('raw bytes into every listener', () => {
  let web: Upstream;
  let secure: TlsUpstream;
  const planes: { name: string; h: Harness }[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  let corpus: Buffer[] = [];

  before(async () => {
    process.on('uncaughtException', onUncaught);
    web = await startUpstream((_req, res) => res.end('ok'));
    secure = await startTlsUpstream(['tls.test', 'gw.test']);
    const clusters = [
      cluster('PassthroughCluster', 'ORIGINAL_DST'),
      cluster('BlackHoleCluster', 'STATIC'),
      cluster('web', 'STATIC', [{ address: '127.0.0.1', port: web.port }]),
      cluster('tls', 'STATIC', [{ address: '127.0.0.1', port: secure.port }]),
    ];
    const routes = [{ name: '80', virtualHosts: [vhost('web.test:80', ['web.test'], [clusterRoute('r', 'web')])] }];
    const sidecar = sidecarConfig({
      routeConfigs: routes,
      clusters,
      filterChains: [
        {
          name: '80|http',
          match: { destinationPort: 80, transportProtocol: 'raw_buffer' },
          filter: { kind: 'http', routeConfigName: '80' },
        },
        tcpChain('443|tls.test', { destinationPort: 443, serverNames: ['tls.test'], transportProtocol: 'tls' }, 'tls'),
      ],
      defaultFilterChain: blackholeChain,
    });
    const gatewayHttp = gatewayConfig({
      routeConfigs: [
        { name: 'http.80', virtualHosts: [vhost('web.test:80', ['web.test'], [clusterRoute('r', 'web')])] },
      ],
      clusters,
    });
    const cert = serverCertificate(['gw.test']);
    const gatewayTls: ProxyConfig = {
      ...gatewayHttp,
      node: testNode('127.0.0.1', 'router'),
      listeners: [
        {
          kind: 'gateway-network',
          name: '0.0.0.0_8443',
          address: '127.0.0.1',
          port: 0,
          servicePort: 443,
          filterChains: [
            tcpChain('pass', { serverNames: ['tls.test'], transportProtocol: 'tls' }, 'tls'),
            {
              name: 'term',
              match: { serverNames: ['gw.test'], transportProtocol: 'tls' },
              tls: {
                mode: 'SIMPLE',
                certificateChain: { pem: cert.certificatePem },
                privateKey: { pem: cert.keyPem },
                subjectAltNames: [],
              },
              filter: { kind: 'http', routeConfigName: 'http.80' },
            },
          ],
        },
      ],
    };
    planes.push({ name: 'sidecar', h: await startPlane(sidecar) });
    planes.push({ name: 'gateway HTTP', h: await startPlane(gatewayHttp) });
    planes.push({ name: 'gateway TLS', h: await startPlane(gatewayTls) });
    corpus = [
      Buffer.from('GET http://web.test/x?y=1 HTTP/1.1\r\nHost: web.test\r\nUser-Agent: fuzz\r\n\r\n'),
      Buffer.from('POST /x HTTP/1.1\r\nHost: web.test\r\nContent-Length: 5\r\n\r\nhello'),
      Buffer.from('POST /x HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
      Buffer.from('GET /chat HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'),
      Buffer.from('CONNECT web.test:80 HTTP/1.1\r\nHost: web.test:80\r\n\r\nGET / HTTP/1.1\r\nHost: web.test\r\n\r\n'),
      Buffer.concat([
        Buffer.from('CONNECT tls.test:443 HTTP/1.1\r\nHost: tls.test:443\r\n\r\n'),
        await capturedClientHello('tls.test'),
      ]),
      await capturedClientHello('tls.test'),
      await capturedClientHello('gw.test'),
    ];
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    for (const p of planes) await p.h.close();
    await web.close();
    await secure.close();
  });

  it(`seed ${SEED}, ${CASES} cases: answered or closed in bounded time, nothing escapes, all still serve`, async () => {
    const rnd = prng(SEED);
    const stuck: string[] = [];
    const batch = 24;
    for (let start = 0; start < CASES; start += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, CASES - start) }, async (_, k) => {
          const i = start + k;
          const plane = planes[Math.floor(rnd() * planes.length)]!;
          const input = mutate(corpus[Math.floor(rnd() * corpus.length)]!, rnd, corpus);
          const outcome = await probe(plane.h.port(), input);
          if (outcome === 'stuck')
            stuck.push(`case ${i} on ${plane.name}: ${JSON.stringify(input.toString('latin1').slice(0, 120))}`);
        }),
      );
    }
    assert.deepEqual(uncaught, [], `seed ${SEED}`);
    assert.deepEqual(stuck, [], `seed ${SEED}: connections neither answered nor closed within ${SETTLE_MS} ms`);
    const [sidecar, gatewayHttp] = planes.map((p) => p.h) as [Harness, Harness];
    assert.equal((await send(sidecar.port(), 'http://web.test/')).status, 200);
    assert.equal((await send(gatewayHttp.port(), '/', { headers: { host: 'web.test' } })).status, 200);
    for (const { h } of planes)
      assert.deepEqual(
        h.warnings.filter((w) => /unexpected|failed to answer/.test(w)),
        [],
      );
  });
});
