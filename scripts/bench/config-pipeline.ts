// Config figures: YAML for N ServiceEntries -> ingest -> snapshot -> sidecar translation -> data-plane compile,
// the routes' JSON size and the heap the compiled config holds.
import { performance } from 'node:perf_hooks';
import { DataPlane } from '../../src/dataplane/index.js';
import { parseYaml } from '../../src/ingest/index.js';
import { type NodeIdentity, nodeId } from '../../src/proxy-config/types.js';
import { buildSnapshot } from '../../src/snapshot/index.js';
import { translate } from '../../src/translation/index.js';

export const node: NodeIdentity = {
  id: nodeId('sidecar', '127.0.0.1', 'sleep', 'default'),
  type: 'sidecar',
  name: 'sleep',
  namespace: 'default',
  ip: '127.0.0.1',
  labels: { app: 'sleep' },
  serviceAccount: 'sleep',
};

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
