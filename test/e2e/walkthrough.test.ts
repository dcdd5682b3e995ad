// The seed walkthrough, end to end (key order of the log line: pilot's EnvoyJSONLogFormatIstio): real `tollgate up`, real CLI, real curl, a real DNS server (dnsmasq) resolving
// aliyun.com to a loopback address, and a real HTTP server there answering 301 like aliyun.com does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  EXAMPLES,
  eventually,
  startDnsmasq,
  startRedirectSite,
  startUp,
  tempDir,
  tollgate,
  rootOnly,
  type UpProcess,
} from '../helpers/processes.js';

// Random loopback addresses, so the run collides with nothing else on the machine (another run included).
const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SITE_IP = `127.${octet()}.${octet()}.10`;
const POD_CIDR = `127.${octet()}.${octet()}.0/24`;
const example = (name: string): string => path.join(EXAMPLES, name);

const ACCESS_LOG_KEYS = [
  'start_time',
  'route_name',
  'method',
  'path',
  'protocol',
  'response_code',
  'response_flags',
  'response_code_details',
  'connection_termination_details',
  'bytes_received',
  'bytes_sent',
  'duration',
  'upstream_service_time',
  'x_forwarded_for',
  'user_agent',
  'request_id',
  'authority',
  'upstream_host',
  'upstream_cluster',
  'upstream_local_address',
  'downstream_local_address',
  'downstream_remote_address',
  'requested_server_name',
  'upstream_transport_failure_reason',
];

describe('seed walkthrough', { skip: rootOnly('the seed walkthrough', 'its stand-in site listens on port 80') }, () => {
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  let site: Awaited<ReturnType<typeof startRedirectSite>>;
  let up: UpProcess;
  let configDir: string;

  const cli = (...args: string[]) => tollgate(args, up);

  /** `tollgate exec sleep -- curl -sI aliyun.com`: the status code curl saw. */
  async function curlAliyun(): Promise<number> {
    const r = await cli('exec', 'sleep', '--', 'curl', '-sS', '-I', '--max-time', '10', 'aliyun.com');
    assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(r.stdout);
    assert.ok(status, `no status line in curl output: ${r.stdout}`);
    return Number(status[1]);
  }

  async function lastLogLine(proxy: string, namespace: string, grep = 'aliyun.com'): Promise<Record<string, unknown>> {
    const r = await cli('logs', proxy, '-n', namespace);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.includes(grep));
    assert.ok(lines.length > 0, `no ${grep} line in the ${proxy} log:\n${r.stdout}`);
    return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  }

  async function sleepAddress(): Promise<string> {
    const r = await cli('status');
    const row = r.stdout.split('\n').find((l) => l.startsWith('sleep.default'));
    assert.ok(row, r.stdout);
    return row.split(/\s+/)[2]!;
  }

  before(async () => {
    dns = await startDnsmasq({ 'aliyun.com': SITE_IP });
    site = await startRedirectSite(SITE_IP, 80);
    configDir = tempDir('walkthrough');
    up = await startUp(['--config-dir', configDir, '--pod-cidr', POD_CIDR, '--dns-server', dns.server]);
  });

  after(async () => {
    await up?.stop();
    await site?.close();
    dns?.stop();
  });

  test('1. ALLOW_ANY: the sleep workload reaches aliyun.com directly', async () => {
    const applied = await cli('apply', '--wait', '-f', example('sleep.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /deployment\.apps\/sleep created/);
    assert.equal(await curlAliyun(), 301);
    const log = await lastLogLine('sleep', 'default');
    assert.equal(log.route_name, 'allow_any');
    assert.equal(log.upstream_cluster, 'PassthroughCluster');
    assert.equal(log.response_code_details, 'via_upstream');
    assert.equal(log.upstream_host, `${SITE_IP}:80`);
    assert.equal(site.requests.at(-1)?.remote, await sleepAddress(), 'the site sees the workload address');
  });

  test('2. REGISTRY_ONLY: the sidecar answers 502 with route block_all', async () => {
    const applied = await cli('apply', '--wait', '-f', example('registry-only.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    const before = site.requests.length;
    assert.equal(await curlAliyun(), 502);
    assert.equal(site.requests.length, before, 'nothing reached the site');
    const log = await lastLogLine('sleep', 'default');
    assert.equal(log.response_code, 502);
    assert.equal(log.route_name, 'block_all');
    assert.equal(log.response_flags, '-');
    assert.equal(log.response_code_details, 'direct_response');
    assert.equal(log.upstream_host, '-');
  });

  test('3. a ServiceEntry registers aliyun.com: 301 again, still direct', async () => {
    const applied = await cli('apply', '--wait', '-f', example('serviceentry.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(await curlAliyun(), 301);
    const log = await lastLogLine('sleep', 'default');
    assert.equal(log.upstream_cluster, 'outbound|80||aliyun.com');
    assert.equal(log.route_name, 'default');
    assert.equal(log.upstream_host, `${SITE_IP}:80`);
  });

  test('4. Gateway + VirtualService: 301 through the egress gateway, with the full access-log line', async () => {
    const applied = await cli('apply', '--wait', '-f', example('gateway.yaml'), '-f', example('virtualservice.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /gateway\.networking\.istio\.io\/egress-gw created/);
    assert.match(applied.stdout, /virtualservice\.networking\.istio\.io\/egressgateway-vs created/);
    assert.equal(await curlAliyun(), 301);

    const sidecar = await lastLogLine('sleep', 'default');
    assert.equal(sidecar.upstream_cluster, 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local');

    const gw = await lastLogLine('istio-egressgateway', 'istio-system');
    assert.deepEqual(Object.keys(gw), ACCESS_LOG_KEYS, 'every default JSON field, in order');
    const sleepIp = await sleepAddress();
    assert.match(String(gw.downstream_remote_address), new RegExp(`^${sleepIp.replace(/\./g, '\\.')}:\\d+$`));
    assert.equal(gw.upstream_host, `${SITE_IP}:80`);
    assert.equal(gw.upstream_cluster, 'outbound|80||aliyun.com');
    assert.equal(gw.response_code, 301);
    assert.equal(gw.method, 'HEAD');
    assert.equal(gw.authority, 'aliyun.com');
    assert.equal(gw.response_flags, '-');
    assert.equal(gw.requested_server_name, '-');
    assert.equal(gw.route_name, '-', 'the unnamed VirtualService route');
    for (const [key, value] of Object.entries(gw)) assert.notEqual(value, '', `${key} is "-" when unset, never empty`);
    assert.match(String(gw.start_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(site.requests.at(-1)?.remote !== sleepIp, 'the site now sees the gateway, not the workload');
  });

  test('status: every proxy in sync', async () => {
    const r = await cli('status');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /istio-egressgateway\.istio-system\s+gateway/);
    assert.match(r.stdout, /sleep\.default\s+sidecar/);
  });

  test('analyze: the live configuration is clean; a file merged over it shows what it would break', async () => {
    const clean = await cli('analyze');
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /No validation issues found when analyzing the live configuration\./);
    const merged = await cli(
      'analyze',
      '-f',
      path.join(EXAMPLES, '..', 'mistakes', 'virtualservice-wrong-gateway.yaml'),
    );
    assert.equal(merged.code, 1);
    assert.match(
      merged.stdout,
      /virtualservice-wrong-gateway\.yaml:11:5: error IST0101 VirtualService default\/egressgateway-vs/,
    );
    // The Gateway in force loses its VirtualService in the merged view: reported at its persisted file.
    assert.match(
      merged.stdout,
      new RegExp(
        `${configDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/gateway\\.default\\.egress-gw\\.yaml:\\d+:\\d+: warning TG1005`,
      ),
    );
    assert.equal(await curlAliyun(), 301, 'analyze changed nothing');
  });

  test('bad input: rejected with file and line, nothing changes', async () => {
    const bad = path.join(tempDir('bad'), 'broken.yaml');
    fs.writeFileSync(
      bad,
      [
        'apiVersion: networking.istio.io/v1beta1',
        'kind: ServiceEntry',
        'metadata:',
        '  name: broken',
        'spec:',
        '  hosts: [example.org',
        '',
      ].join('\n'),
    );
    const r = await cli('apply', '--wait', '-f', bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
    const invalid = path.join(path.dirname(bad), 'invalid.yaml');
    fs.writeFileSync(
      invalid,
      [
        'apiVersion: networking.istio.io/v1beta1',
        'kind: ServiceEntry',
        'metadata:',
        '  name: no-hosts',
        'spec:',
        '  ports:',
        '  - number: 80',
        '    name: http',
        '    protocol: HTTP',
        '',
      ].join('\n'),
    );
    const r2 = await cli('apply', '-f', invalid);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /invalid\.yaml:\d+:\d+: error .*ServiceEntry default\/no-hosts/);
    const get = await cli('get', 'serviceentry', 'no-hosts');
    assert.notEqual(get.code, 0, 'the rejected resource is not in force');
    assert.equal(await curlAliyun(), 301, 'the mesh still runs on its last good config');
  });

  test('a restart keeps every applied resource', async () => {
    await up.stop();
    up = await startUp(['--config-dir', configDir, '--pod-cidr', POD_CIDR, '--dns-server', dns.server]);
    const w = await eventually(
      async () => ((await cli('status')).code === 0 ? true : undefined),
      10_000,
      'proxies in sync',
    );
    assert.ok(w);
    assert.equal(await curlAliyun(), 301);
    const gw = await lastLogLine('istio-egressgateway', 'istio-system');
    assert.equal(gw.upstream_cluster, 'outbound|80||aliyun.com');
  });

  test('deleting the Gateway and VirtualService sends traffic direct again', async () => {
    const r = await cli('delete', '--wait', '-f', example('gateway.yaml'), '-f', example('virtualservice.yaml'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /virtualservice\.networking\.istio\.io\/egressgateway-vs deleted/);
    assert.equal(await curlAliyun(), 301);
    const log = await lastLogLine('sleep', 'default');
    assert.equal(log.upstream_cluster, 'outbound|80||aliyun.com');
  });

  test('an edit in the config directory takes effect live', async () => {
    const files = fs.readdirSync(configDir);
    const se = files.find((f) => f.startsWith('serviceentry.'));
    assert.ok(se, `the ServiceEntry was persisted: ${files.join(', ')}`);
    fs.rmSync(path.join(configDir, se));
    await eventually(async () => ((await curlAliyun()) === 502 ? true : undefined), 5_000, 'aliyun.com blocked again');
  });

  test('a broken file in the config directory is reported with its line, and the last good config stays', async () => {
    const version = /controller config version (\d+)/.exec((await cli('status')).stdout)?.[1];
    fs.writeFileSync(
      path.join(configDir, 'broken.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x\n',
    );
    await eventually(
      async () => (/broken\.yaml:\d+:\d+: error TG0001/.test(up.output()) ? true : undefined),
      5_000,
      'the error printed by up',
    );
    assert.equal(await curlAliyun(), 502);
    const status = await cli('status');
    assert.equal(status.code, 0);
    assert.equal(/controller config version (\d+)/.exec(status.stdout)?.[1], version, 'nothing changed');
  });
});
