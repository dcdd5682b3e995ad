// The README walkthrough with no internet and no root: `tollgate up --stand-in aliyun.com` serves the site's 301
// on its own loopback address, wired in by connect-to. Real `tollgate up`, real CLI, real curl; no DNS server.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXAMPLES, startUp, tempDir, tollgate, type UpProcess } from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SUBNET = `127.${octet()}.${octet()}`;
const example = (name: string): string => path.join(EXAMPLES, name);

describe('the walkthrough offline, against a stand-in', () => {
  let up: UpProcess;
  const cli = (...args: string[]) => tollgate(args, up);

  /** The status line and the location curl saw, running as the workload; `args` place -n where users do. */
  async function curlAliyun(...execArgs: string[]): Promise<{ status: number; location: string | undefined }> {
    const r = await cli('exec', ...execArgs, '--', 'curl', '-sS', '-I', '--max-time', '10', 'aliyun.com');
    assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(r.stdout);
    assert.ok(status, `no status line in curl output: ${r.stdout}`);
    return { status: Number(status[1]), location: /^location: (\S+)/im.exec(r.stdout)?.[1] };
  }

  async function lastLogLine(proxy: string, namespace: string): Promise<Record<string, unknown>> {
    const r = await cli('logs', proxy, '-n', namespace, '--tail', '1');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  }

  before(async () => {
    up = await startUp([
      '--config-dir',
      tempDir('offline'),
      '--pod-cidr',
      `${SUBNET}.0/24`,
      '--stand-in',
      'aliyun.com',
    ]);
  });

  after(async () => {
    await up?.stop();
  });

  test('up says where the stand-in runs: the top of the pod range, port 80 or one it was given', () => {
    assert.match(
      up.output(),
      new RegExp(
        `stand-in for aliyun\\.com at ${SUBNET.replace(/\./g, '\\.')}\\.254 \\(http 80 on port \\d+, https 443 on port \\d+\\)`,
      ),
    );
  });

  test('1. ALLOW_ANY: 301 from the stand-in; exec takes -n after the workload as well as before it', async () => {
    const applied = await cli('apply', '--wait', '-f', example('sleep.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(await curlAliyun('sleep'), { status: 301, location: 'https://aliyun.com/' });
    assert.deepEqual(await curlAliyun('sleep', '-n', 'default'), { status: 301, location: 'https://aliyun.com/' });
    assert.deepEqual(await curlAliyun('-n', 'default', 'sleep'), { status: 301, location: 'https://aliyun.com/' });
    assert.deepEqual(await curlAliyun('sleep', '--namespace=default'), {
      status: 301,
      location: 'https://aliyun.com/',
    });
    const log = await lastLogLine('sleep', 'default');
    assert.equal(log.upstream_cluster, 'PassthroughCluster');
    assert.match(String(log.upstream_host), new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.254:\\d+$`));
  });

  test('exec -n names a namespace, never the command; a wrong namespace says which workloads exist', async () => {
    const r = await cli('exec', 'sleep', '-n', 'other', '--', 'curl', '-sSI', 'aliyun.com');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: no workload sleep in namespace other; workloads: sleep -n default$/m);
    assert.doesNotMatch(r.stderr, /ENOENT/);
  });

  test('2. REGISTRY_ONLY: 502 from the sidecar', async () => {
    assert.equal((await cli('apply', '--wait', '-f', example('registry-only.yaml'))).code, 0);
    assert.equal((await curlAliyun('sleep')).status, 502);
  });

  test('3 and 4. a ServiceEntry, then a Gateway and VirtualService: 301 through the egress gateway', async () => {
    assert.equal((await cli('apply', '--wait', '-f', example('serviceentry.yaml'))).code, 0);
    assert.equal((await curlAliyun('sleep')).status, 301);
    const applied = await cli('apply', '--wait', '-f', example('gateway.yaml'), '-f', example('virtualservice.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(await curlAliyun('sleep'), { status: 301, location: 'https://aliyun.com/' });
    const gw = await lastLogLine('istio-egressgateway', 'istio-system');
    assert.equal(gw.upstream_cluster, 'outbound|80||aliyun.com');
    assert.match(String(gw.upstream_host), new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.254:\\d+$`));
    assert.match(String(gw.downstream_remote_address), new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.2:\\d+$`));
  });

  /** `curl https://aliyun.com` as the workload: curl's exit code and the status of the page (after the tunnel). */
  async function curlHttps(): Promise<{ exit: number; status: number | undefined; stderr: string }> {
    const r = await cli('exec', 'sleep', '--', 'curl', '-sS', '-I', '--max-time', '10', 'https://aliyun.com/');
    const statuses = [...r.stdout.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    return { exit: r.code, status: statuses.at(-1), stderr: r.stderr };
  }

  test('HTTPS under REGISTRY_ONLY: refused with 502 before a tunnel opens; once registered, through the gateway', async () => {
    const refused = await curlHttps();
    assert.notEqual(refused.exit, 0);
    assert.match(refused.stderr, /CONNECT tunnel failed, response 502/);

    // As the README: the HTTP Gateway and VirtualService go first (a host has one mesh VirtualService).
    const deleted = await cli('delete', '--wait', '-f', example('gateway.yaml'), '-f', example('virtualservice.yaml'));
    assert.equal(deleted.code, 0, deleted.stderr);
    const https = path.join(EXAMPLES, '..', 'aliyun-https');
    assert.equal((await cli('apply', '--wait', '-f', path.join(https, 'serviceentry.yaml'))).code, 0);
    // The stand-in's certificate comes from the local CA that exec has curl trust: verification is on.
    assert.deepEqual(await curlHttps(), { exit: 0, status: 200, stderr: '' });
    const applied = await cli(
      'apply',
      '--wait',
      '-f',
      path.join(https, 'gateway.yaml'),
      '-f',
      path.join(https, 'virtualservice.yaml'),
    );
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(await curlHttps(), { exit: 0, status: 200, stderr: '' });
    const gw = await lastLogLine('istio-egressgateway', 'istio-system');
    assert.equal(gw.upstream_cluster, 'outbound|443||aliyun.com');
    assert.equal(gw.requested_server_name, 'aliyun.com');
    assert.match(String(gw.downstream_remote_address), new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.2:\\d+$`));
    const sidecar = await lastLogLine('sleep', 'default');
    assert.equal(sidecar.method, 'CONNECT');
    assert.equal(sidecar.upstream_cluster, 'outbound|443||istio-egressgateway.istio-system.svc.cluster.local');
  });
});
