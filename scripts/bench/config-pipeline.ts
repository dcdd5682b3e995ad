// Config figures: YAML for N ServiceEntries -> ingest -> snapshot -> sidecar translation -> data-plane compile,
// the routes' JSON size, the heap all of that holds, and the router's lookup.
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { decodeServerMessage, encodeConfigMessage } from '../../src/distribution/index.js';
import { type CompiledConfig, compileConfig, DataPlane } from '../../src/dataplane/index.js';
import type { RequestView } from '../../src/dataplane/request-view.js';
import { selectRoute } from '../../src/dataplane/router.js';
import { parseYaml } from '../../src/ingest/index.js';
import { buildSnapshot } from '../../src/snapshot/index.js';
import { SLEEP } from '../../src/snapshot/testing/fixtures.js';
import type { ProxyConfig } from '../../src/proxy-config/types.js';
import { translate } from '../../src/translation/index.js';

/** The sidecar the config figures are for. */
export const node = SLEEP;

export function serviceEntries(n: number): string {
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

export async function configFigures(sizes: readonly number[]): Promise<void> {
  console.log('config pipeline (one sidecar)\n');
  console.log(
    '| services | yaml parse | snapshot | translate | compile+apply | config JSON | heap held | route, one host | route, 4,096 hosts |',
  );
  console.log('|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of sizes) {
    const text = serviceEntries(n);
    // What the bench process held before (earlier figures' leftovers) is not this config's. Twice: what one
    // collection frees (finalizers, weak references) can let the next free more.
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
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
    // The text, resources, snapshot, translation and compiled config, all alive here.
    collectGarbage();
    const heap = `${((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toFixed(0)} MiB`;
    await dp.close();
    const size = `${(JSON.stringify(config).length / 1024).toFixed(0)} KiB`;
    const lookup = routeLookupNs(asReceived(config), n);
    console.log(
      `| ${n} | ${parse} | ${snap} | ${tr} | ${compile} | ${size} | ${heap} | ${lookup.one.toFixed(0)} ns | ${lookup.spread.toFixed(0)} ns |`,
    );
  }
}

function collectGarbage(): void {
  global.gc?.();
  global.gc?.();
}

/** A config as a proxy holds it: through the wire's encoding (gzip, JSON) and back, then compiled. */
function asReceived(config: ProxyConfig): CompiledConfig {
  const text = gunzipSync(Buffer.concat(encodeConfigMessage('1', config, 'gzip'))).toString();
  const message = decodeServerMessage(JSON.parse(text), 'message');
  if (message.type !== 'config') throw new Error('not a config message');
  return compileConfig(message.config);
}

/**
 * The router's own cost as hosts grow (`selectRoute`: the route config, the virtual host, the route), in
 * nanoseconds a request: every request for one host, and requests spread over 4,096 of the `n` hosts (the same
 * draws at every size), where the structures of each request's host are less likely to be in the CPU's caches.
 */
function routeLookupNs(config: CompiledConfig, n: number): { one: number; spread: number } {
  const listener = [...config.listeners.values()].find((l) => l.kind === 'sidecar-outbound');
  if (listener?.kind !== 'sidecar-outbound') throw new Error('no sidecar listener');
  const view = (host: string): RequestView => ({
    method: 'GET',
    path: '/',
    query: '',
    authority: host,
    host,
    scheme: 'http',
    headers: { host },
  });
  const spread = Array.from({ length: 4096 }, (_, i) => view(`svc-${(i * 7919) % n}.example.com`));
  const one = Array.from({ length: 4096 }, () => spread[0]!);
  const run = (views: readonly RequestView[], count: number): number => {
    let routed = 0;
    const t = performance.now();
    for (let i = 0; i < count; i++) if (selectRoute(config, listener, views[i & 4095]!, 80)) routed++;
    const elapsed = performance.now() - t;
    if (routed !== count) throw new Error(`${count - routed} of ${count} requests found no route`);
    return (elapsed * 1e6) / count;
  };
  const best = (views: readonly RequestView[]): number => {
    run(views, 100_000);
    return Math.min(run(views, 1_000_000), run(views, 1_000_000), run(views, 1_000_000));
  };
  return { one: best(one), spread: best(spread) };
}

/** What one proxy does with a pushed config of `n` ServiceEntries: gunzip, JSON.parse and decode, compile. */
export async function proxyDecodeFigures(n: number): Promise<void> {
  const { resources } = parseYaml(serviceEntries(n), `bench-${n}.yaml`);
  const config = translate(node, buildSnapshot({ version: '1', resources, instances: [node] }));
  const wire = Buffer.concat(encodeConfigMessage('1', config, 'gzip'));
  let t = performance.now();
  const text = gunzipSync(wire).toString();
  const gunzip = ms(t);
  t = performance.now();
  const message = decodeServerMessage(JSON.parse(text), 'message');
  const parse = ms(t);
  if (message.type !== 'config') throw new Error('not a config message');
  const dp = new DataPlane(node, { resolver: { resolve: async () => ['127.0.0.1'] } });
  t = performance.now();
  const applied = await dp.apply({ ...message.config, listeners: [] });
  if (!applied.ok) throw new Error(applied.error);
  const compile = ms(t);
  await dp.close();
  console.log(`one proxy's share of a ${n}-ServiceEntry push (in its own process)\n`);
  console.log('| received (gzip) | decoded JSON | gunzip | JSON.parse + decode | compile + apply |');
  console.log('| --: | --: | --: | --: | --: |');
  console.log(
    `| ${(wire.length / 1024).toFixed(0)} KiB | ${(text.length / 2 ** 20).toFixed(2)} MiB | ${gunzip} | ${parse} | ${compile} |`,
  );
}
