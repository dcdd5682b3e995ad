// Egress gateway replicas under sustained load (wrk through the sleep sidecar -> 2 gateway replicas -> a stand-in):
// both replicas serve and log; a replica SIGKILLed mid-load fails only what was in flight on it and comes back by
// itself; scaling 2 -> 3 -> 1 fails nothing; 100 changes that move the host between direct and the gateway fail
// nothing. Every count is wrk's, cross-checked with the sidecar's access log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { documents, egressGateway, httpServiceEntry, SLEEP_DEPLOYMENT, viaEgressGateway } from '../helpers/fixtures.js';
import { startLoad, wrkMissing, type LoadResult } from '../helpers/load.js';
import { eventually, prefixedPods, startUp, tempDir, tollgate, type UpProcess } from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const CIDR = `127.${octet()}.${octet()}.0/24`;

const gatewayReplicas = (n: number): string => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: install, namespace: istio-system}
spec:
  components:
    egressGateways:
    - name: istio-egressgateway
      k8s: {replicaCount: ${n}}
`;

const SERVICE_ENTRY = httpServiceEntry('site', 'site.test', 80);
const VIA_GATEWAY = documents(
  egressGateway('egress', ['site.test']),
  viaEgressGateway('site-via-egress', 'egress', 'site.test', 80),
);

interface PodView {
  readonly pod: string;
  readonly namespace: string;
  readonly pid?: number;
  readonly restarts: number;
  readonly phase: string;
  readonly ip: string;
  readonly status?: { readonly ready: boolean };
  readonly lastCrash?: { readonly at: number; readonly reason: string };
}

interface AccessRecord {
  readonly start_time: string;
  readonly response_code: number;
  readonly response_flags: string;
  readonly response_code_details: string;
  readonly upstream_host: string;
}

describe('egress gateway replicas under load', { skip: wrkMissing() }, () => {
  let up: UpProcess;
  let site: http.Server;
  /** Requests the stand-in answered, by the address they came from (a gateway replica's pod address). */
  const served = new Map<string, number>();
  let sidecarUrl: string;
  let adminToken: string;

  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${up.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T;
    assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const pods = async (): Promise<PodView[]> => (await api<{ pods: PodView[] }>('GET', '/v1/pods')).pods;
  const gatewayPods = async (): Promise<PodView[]> => (await pods()).filter((p) => p.namespace === 'istio-system');
  /** Applies (or deletes) files and waits until every proxy has the result. */
  const change = async (action: 'apply' | 'delete', name: string, content: string): Promise<void> => {
    const result = await api<{ version: string }>('POST', `/v1/${action}`, { files: [{ name, content }] });
    const synced = await api<{ ok: boolean }>('GET', `/v1/wait?version=${result.version}&timeoutMs=20000`);
    assert.ok(synced.ok, `every proxy acknowledged version ${result.version}`);
  };
  /** Runs `during` under load; wrk is stopped however `during` ends, and a failure shows what `up` said. */
  const underLoad = async <T>(during: () => Promise<T>): Promise<{ value: T; load: LoadResult }> => {
    const run = startLoad(`${sidecarUrl}/`, { Host: 'site.test' });
    let value: T;
    try {
      value = await during();
    } catch (err) {
      const stopped = await run.stop().catch((e: unknown) => ({ output: String(e) }));
      const said = up
        .output()
        .split('\n')
        .filter((l) => !l.includes('| {'));
      throw new Error(
        `${(err as Error).message}\nserved by: ${JSON.stringify([...served])}\n` +
          `--- wrk:\n${stopped.output}\n--- tollgate up said, last:\n${said.slice(-30).join('\n')}`,
      );
    }
    return { value, load: await run.stop() };
  };
  /** The sidecar's access-log records since `since`, without those of requests wrk abandoned when it stopped. */
  const sidecarRecords = async (since: number): Promise<AccessRecord[]> => {
    const r = await tollgate(['logs', 'sleep'], up);
    return r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as AccessRecord)
      .filter((rec) => Date.parse(rec.start_time) >= since && rec.response_flags !== 'DC');
  };
  const failed = (r: LoadResult): number => r.badResponses + r.socketErrors;
  /** Asserts that wrk saw no failure; if it did, the sidecar's records of them say what they were. */
  const noFailures = async (r: LoadResult, since: number): Promise<void> => {
    if (failed(r) === 0) return;
    const failures = (await sidecarRecords(since)).filter((rec) => rec.response_code !== 200);
    assert.fail(`${failed(r)} requests failed:\n${failures.map((f) => JSON.stringify(f)).join('\n')}\n${r.output}`);
  };
  const report = (t: TestContext, what: string, r: LoadResult): void =>
    t.diagnostic(`${what}: ${r.requests} requests in ${r.seconds.toFixed(1)} s, ${failed(r)} failed`);

  before(async () => {
    site = http.createServer((req, res) => {
      const from = req.socket.remoteAddress ?? '';
      served.set(from, (served.get(from) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    });
    // An upstream that keeps idle connections as long as Envoy does, so that no pooled connection races its close.
    site.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const sitePort = (site.address() as { port: number }).port;
    const dir = tempDir('availability');
    fs.writeFileSync(
      path.join(dir, 'mesh.yaml'),
      documents(gatewayReplicas(2), SERVICE_ENTRY, VIA_GATEWAY, SLEEP_DEPLOYMENT),
    );
    up = await startUp(['--config-dir', dir, '--pod-cidr', CIDR, '--connect-to', `site.test:80:127.0.0.1:${sitePort}`]);
    adminToken = fs.readFileSync(path.join(dir, '.tollgate', 'admin-token'), 'utf8').trim();
    const sleep = (await pods()).find((p) => p.namespace === 'default')!;
    sidecarUrl = `http://${sleep.ip}:15001`;
    // A gateway pod is ready before every sidecar has its endpoint (the push follows): until one request has gone
    // through, the sidecar may still answer 503 UH, as an Istio sidecar does in the same moment.
    const through = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get(`${sidecarUrl}/`, { headers: { host: 'site.test' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    await eventually(
      async () => ((await through()) === 200 ? true : undefined),
      10_000,
      'a request through the gateway',
    );
  });

  after(async () => {
    await up?.stop();
    await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
  });

  test('both replicas serve and log; logs merges them with the pod as prefix, logs POD reads one', async (t) => {
    const replicas = await gatewayPods();
    assert.equal(replicas.length, 2);
    assert.ok(replicas.every((p) => p.status?.ready));
    const since = Date.now();
    const { load: result } = await underLoad(() =>
      eventually(() => (replicas.every((p) => (served.get(p.ip) ?? 0) > 20) ? true : undefined), 10_000),
    );
    report(t, 'two replicas', result);
    await noFailures(result, since);

    const merged = await tollgate(['logs', 'istio-egressgateway', '-n', 'istio-system', '--tail', '1'], up);
    assert.equal(merged.code, 0, merged.stderr);
    assert.deepEqual(
      prefixedPods(merged.stdout),
      replicas.map((p) => p.pod).sort(),
      'one line per replica, each prefixed with its pod',
    );
    const one = await tollgate(['logs', replicas[0]!.pod, '-n', 'istio-system', '--tail', '1'], up);
    const record = JSON.parse(one.stdout) as { downstream_local_address: string };
    assert.equal(record.downstream_local_address, `${replicas[0]!.ip}:8080`, 'the pod itself, unprefixed');

    const ip = (p: PodView): string => p.ip.replace(/\./g, '\\.');
    const status = await tollgate(['status'], up);
    for (const p of replicas)
      assert.match(
        status.stdout,
        new RegExp(`istio-egressgateway\\.istio-system\\s+gateway\\s+${ip(p)}\\s+\\d+\\s+SYNCED\\s+${p.pod}\\s+Ready`),
      );
    const listed = await tollgate(['get', 'pods', '-n', 'istio-system'], up);
    for (const p of replicas)
      assert.match(listed.stdout, new RegExp(`${p.pod}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${ip(p)}`));
  });

  test('a replica SIGKILLed mid-load: only requests in flight on it fail, and it comes back by itself', async (t) => {
    const [victim] = await gatewayPods();
    const since = Date.now();
    const { value: back, load: result } = await underLoad(async () => {
      await eventually(() => ((served.get(victim!.ip) ?? 0) > 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      process.kill(victim!.pid!, 'SIGKILL');
      const restarted = await eventually(
        async () => {
          const p = (await gatewayPods()).find((g) => g.pod === victim!.pod);
          return p?.restarts === 1 && p.status?.ready && p.pid !== victim!.pid ? p : undefined;
        },
        15_000,
        'the killed replica restarted and ready again',
      );
      const servedBefore = served.get(restarted.ip) ?? 0;
      await eventually(
        () => ((served.get(restarted.ip) ?? 0) > servedBefore ? true : undefined),
        10_000,
        'traffic again',
      );
      return restarted;
    });
    // The replica was gone at the latest when its supervisor saw it exit; a request the sidecar sent it before
    // then was in flight on it (in its process, or in its listen queue).
    const goneAt = back.lastCrash!.at;
    assert.equal(back.lastCrash!.reason, 'SIGKILL');
    const failures = (await sidecarRecords(since)).filter((r) => r.response_code !== 200);
    const inFlight = failures.filter(
      (r) => r.upstream_host === `${victim!.ip}:8080` && Date.parse(r.start_time) <= goneAt,
    );
    t.diagnostic(
      `killed ${victim!.pod} mid-load: ${result.requests} requests, ${failed(result)} failed, ` +
        `${inFlight.length} of them in flight on it, ${failures.length - inFlight.length} others`,
    );
    assert.equal(failed(result), failures.length, `wrk and the sidecar agree:\n${result.output}`);
    assert.deepEqual(failures, inFlight, 'every failed request was in flight on the killed replica');
  });

  test('scaling 2 -> 3 -> 1 under load fails no request; the replica that stays is not touched', async (t) => {
    const before = await gatewayPods();
    const since = Date.now();
    const { value: one, load: result } = await underLoad(async () => {
      await change('apply', 'scale.yaml', gatewayReplicas(3));
      const three = await eventually(async () => {
        const g = await gatewayPods();
        return g.length === 3 && g.every((p) => p.status?.ready) ? g : undefined;
      }, 15_000);
      const added = three.find((p) => !before.some((b) => b.pod === p.pod))!;
      await eventually(() => ((served.get(added.ip) ?? 0) > 0 ? true : undefined), 10_000, 'the new replica serves');
      await change('apply', 'scale.yaml', gatewayReplicas(1));
      return eventually(async () => {
        const g = await gatewayPods();
        return g.length === 1 ? g : undefined;
      }, 20_000);
    });
    report(t, 'scaled 2 -> 3 -> 1', result);
    await noFailures(result, since);
    assert.equal(one[0]!.pod, before[0]!.pod, 'scaling down keeps the first ordinal');
    assert.equal(one[0]!.pid, before[0]!.pid, 'the replica that stays was never restarted');
  });

  test('100 changes moving the host between direct and the gateway under load fail no request', async (t) => {
    await change('apply', 'scale.yaml', gatewayReplicas(2));
    await eventually(async () => {
      const g = await gatewayPods();
      return g.length === 2 && g.every((p) => p.status?.ready) ? true : undefined;
    }, 15_000);
    const since = Date.now();
    const { load: result } = await underLoad(async () => {
      for (let i = 0; i < 100; i++) await change(i % 2 === 0 ? 'delete' : 'apply', 'via-gateway.yaml', VIA_GATEWAY);
    });
    t.diagnostic(
      `100 changes in ${((Date.now() - since) / 1000).toFixed(1)} s under load: ${result.requests} requests, ${failed(result)} failed`,
    );
    await noFailures(result, since);
  });
});
