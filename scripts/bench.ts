// `npm run bench`: figures for the two hot paths.
//  1. Config: YAML for N ServiceEntries -> ingest -> snapshot -> sidecar translation -> data-plane compile, and
//     the memory the compiled config holds.
//  2. Requests: a sidecar with that config in front of a local HTTP server, keep-alive clients, requests per
//     second and latency percentiles, against the same server reached directly as the baseline.
// Traffic stays on 127.0.0.1; every loop is bounded in time. The load generator is a separate process.
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DataPlane } from '../src/dataplane/index.js';
import { parseYaml } from '../src/ingest/index.js';
import { nodeId, type NodeIdentity, type ProxyConfig } from '../src/proxy-config/types.js';
import { buildSnapshot } from '../src/snapshot/index.js';
import { translate } from '../src/translation/index.js';

const SIZES = [100, 1_000, 10_000];
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const node: NodeIdentity = {
  id: nodeId('sidecar', '127.0.0.1', 'sleep', 'default'),
  type: 'sidecar',
  name: 'sleep',
  namespace: 'default',
  ip: '127.0.0.1',
  labels: { app: 'sleep' },
  serviceAccount: 'sleep',
};

function serviceEntries(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: svc-${i}, namespace: default}
spec:
  hosts: [svc-${i}.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS`);
  }
  return docs.join('\n---\n');
}

function ms(start: number): string {
  return `${(performance.now() - start).toFixed(1)} ms`;
}

async function configFigures(): Promise<ProxyConfig> {
  console.log('config pipeline (one sidecar)');
  console.log('  services   yaml parse   snapshot   translate   compile+apply   routes json   heap after');
  let last: ProxyConfig | undefined;
  for (const n of SIZES) {
    const text = serviceEntries(n);
    let t = performance.now();
    const { resources, diagnostics } = parseYaml(text, `bench-${n}.yaml`);
    if (diagnostics.some((d) => d.level === 'error')) throw new Error(diagnostics[0]!.message);
    const parse = ms(t);
    t = performance.now();
    const snapshot = buildSnapshot({ version: '1', resources, instances: [node] });
    const snap = ms(t);
    t = performance.now();
    const config = translate(node, snapshot);
    const tr = ms(t);
    const dp = new DataPlane(node, { resolver: { resolve: async () => ['127.0.0.1'] } });
    t = performance.now();
    const applied = await dp.apply({ ...config, listeners: [] });
    if (!applied.ok) throw new Error(applied.error);
    const compile = ms(t);
    await dp.close();
    global.gc?.();
    const heap = `${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`;
    const size = `${(JSON.stringify(config).length / 1024).toFixed(0)} KiB`;
    console.log(
      `  ${String(n).padStart(8)}   ${parse.padStart(10)}   ${snap.padStart(8)}   ${tr.padStart(9)}   ${compile.padStart(13)}   ${size.padStart(11)}   ${heap.padStart(10)}`,
    );
    last = config;
  }
  return last!;
}

interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latencies: number[];
}

/** CONCURRENCY keep-alive clients, each sending one request after another, for LOAD_SECONDS. */
async function load(port: number, path: string, host: string): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const deadline = performance.now() + LOAD_SECONDS * 1000;
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const start = performance.now();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t = performance.now();
      const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { host } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t);
          if (res.statusCode === 200) requests += 1;
          else errors += 1;
          resolve();
        });
      });
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  agent.destroy();
  return { requests, errors, seconds: (performance.now() - start) / 1000, latencies };
}

/** The load runs in its own process, so the client does not share the proxy's event loop. */
function loadInChild(port: number, path: string, host: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url).pathname, ['--load', String(port), path, host], { stdio: 'inherit' });
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
  });
}

function summary(name: string, r: LoadResult): void {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const p = (q: number): string =>
    `${(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2)} ms`;
  console.log(
    `  ${name.padEnd(34)} ${String(Math.round(r.requests / r.seconds)).padStart(7)} req/s   p50 ${p(0.5).padStart(8)}   p99 ${p(0.99).padStart(8)}   errors ${r.errors}`,
  );
}

async function requestFigures(config: ProxyConfig): Promise<void> {
  const upstream = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  });
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;

  // The 10,000-service sidecar, its listener on an ephemeral port, every name dialled to the local server.
  const dp = new DataPlane(node, {
    resolver: { resolve: async () => ['127.0.0.1'] },
    connectTo: [{ host1: '', port1: undefined, host2: '127.0.0.1', port2: upstreamPort }],
  });
  const listeners = config.listeners.map((l) => ({ ...l, port: 0 }));
  const applied = await dp.apply({ ...config, listeners });
  if (!applied.ok) throw new Error(applied.error);
  const sidecarPort = dp.listenerAddresses[0]!.port;

  console.log(`\nrequests (${CONCURRENCY} keep-alive clients, ${LOAD_SECONDS} s each, GET with a 2-byte body)`);
  summary('direct to the server (baseline)', await loadInChild(upstreamPort, '/', 'localhost'));
  summary(
    'sidecar, registered host (1 of 10k)',
    await loadInChild(sidecarPort, 'http://svc-7777.example.com/', 'svc-7777.example.com'),
  );
  summary(
    'sidecar, passthrough (allow_any)',
    await loadInChild(sidecarPort, 'http://unknown.example.org/', 'unknown.example.org'),
  );
  await dp.close();
  upstream.close();
  upstream.closeAllConnections();
}

async function main(): Promise<void> {
  console.log(`tollgate bench — node ${process.version}, ${process.platform}/${process.arch}\n`);
  const config = await configFigures();
  await requestFigures(config);
}

if (process.argv[2] === '--load') {
  const [, , , port, path, host] = process.argv;
  void load(Number(port), path!, host!).then((r) => {
    process.send!(r, () => process.exit(0));
  });
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
