// Config figures: YAML for N ServiceEntries -> ingest -> snapshot -> sidecar translation -> data-plane compile,
// the routes' JSON size and the heap the compiled config holds.
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { decodeServerMessage, encodeConfigMessage } from '../../src/distribution/index.js';
import { DataPlane } from '../../src/dataplane/index.js';
import { parseYaml } from '../../src/ingest/index.js';
import { buildSnapshot } from '../../src/snapshot/index.js';
import { SLEEP } from '../../src/snapshot/testing/fixtures.js';
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
  console.log('| services | yaml parse | snapshot | translate | compile+apply | config JSON | heap after |');
  console.log('|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of sizes) {
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
    console.log(`| ${n} | ${parse} | ${snap} | ${tr} | ${compile} | ${size} | ${heap} |`);
  }
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
