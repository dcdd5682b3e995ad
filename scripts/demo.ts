// `npm run demo`: replays the walkthrough's four steps against a local stand-in for aliyun.com (a real HTTP
// server answering 301 with Location: https://aliyun.com/) and prints each step's expected and actual result.
import path from 'node:path';
import { EXAMPLES, startRedirectSite, startUp, tempDir, tollgate } from '../test/helpers/processes.js';

interface Step {
  readonly title: string;
  readonly apply: readonly string[];
  readonly expected: number;
  readonly via: string;
}

const steps: readonly Step[] = [
  { title: 'ALLOW_ANY: direct', apply: ['sleep.yaml'], expected: 301, via: 'PassthroughCluster' },
  { title: 'REGISTRY_ONLY: blocked by the sidecar', apply: ['registry-only.yaml'], expected: 502, via: 'block_all' },
  {
    title: 'ServiceEntry: registered, still direct',
    apply: ['serviceentry.yaml'],
    expected: 301,
    via: 'outbound|80||aliyun.com',
  },
  {
    title: 'Gateway + VirtualService: through the egress gateway',
    apply: ['gateway.yaml', 'virtualservice.yaml'],
    expected: 301,
    via: 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local',
  },
];

async function main(): Promise<number> {
  const site = await startRedirectSite('127.0.0.1', 0);
  const port = site.port;
  const up = await startUp([
    '--config-dir',
    tempDir('demo'),
    '--pod-cidr',
    '127.0.102.0/24',
    '--connect-to',
    `aliyun.com:80:127.0.0.1:${port}`,
  ]);
  let failures = 0;
  try {
    console.log(`stand-in for aliyun.com on 127.0.0.1:${port}; controller ${up.url}\n`);
    for (const [i, step] of steps.entries()) {
      const files = step.apply.flatMap((f) => ['-f', path.join(EXAMPLES, f)]);
      const applied = await tollgate(['apply', '--wait', ...files], up);
      if (applied.code !== 0) throw new Error(`apply failed:\n${applied.stderr}`);
      const curl = await tollgate(['exec', 'sleep', '--', 'curl', '-sS', '-I', 'aliyun.com'], up);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(curl.stdout)?.[1] ?? 0);
      const logs = await tollgate(['logs', 'sleep', '--tail', '1'], up);
      const line = JSON.parse(logs.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      const via = line.route_name === 'block_all' ? 'block_all' : String(line.upstream_cluster);
      const ok = status === step.expected && via === step.via;
      if (!ok) failures += 1;
      console.log(`${i + 1}. ${step.title}`);
      console.log(`   tollgate apply -f ${step.apply.join(' -f ')}`);
      console.log(`   tollgate exec sleep -- curl -I aliyun.com`);
      console.log(`   expected ${step.expected} via ${step.via}`);
      console.log(`   actual   ${status || 'no response'} via ${via}   ${ok ? 'OK' : 'MISMATCH'}\n`);
    }
    const gw = await tollgate(['logs', 'istio-egressgateway', '-n', 'istio-system', '--tail', '1'], up);
    console.log('egress gateway access log, last line:');
    console.log(gw.stdout.trim());
  } finally {
    await up.stop();
    await site.close();
  }
  console.log(failures === 0 ? '\nall steps behaved as expected' : `\n${failures} steps did not behave as expected`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
