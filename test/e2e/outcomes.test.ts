// Istio's outcome table (the status and response flags Envoy gives each failure), with real processes:
// `tollgate up` on a config directory written by hand (the directory takes what `apply` would refuse, so broken
// setups can be exercised), real curl, dnsmasq and a stand-in site. Each outcome is checked on the wire and in
// the access log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { documents, egressGateway, httpServiceEntry, REGISTRY_ONLY, SLEEP_DEPLOYMENT } from '../helpers/fixtures.js';
import {
  eventually,
  rootOnly,
  run,
  startDnsmasq,
  startUp,
  tempDir,
  tollgate,
  type UpProcess,
} from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SUBNET = `127.${octet()}.${octet()}`;
const SITE_IP = `${SUBNET}.10`;
const DEAD_IP = `${SUBNET}.11`; // nothing listens there
const POD_CIDR = `127.${octet()}.${octet()}.0/24`;

const CONFIG = documents(
  SLEEP_DEPLOYMENT,
  REGISTRY_ONLY,
  httpServiceEntry('httpbin', 'httpbin.test', 8000),
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin.test]
  http:
  - name: slow
    match: [{uri: {prefix: /delay}}]
    timeout: 1s
    route: [{destination: {host: httpbin.test}}]
  - name: tagged
    route:
    - destination: {host: httpbin.test}
      headers: {request: {set: {x-egress-tag: tollgate}}}
`,
  httpServiceEntry('dead', 'dead.test', 8000),
  httpServiceEntry('subsets', 'subsets.test', 8000),
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: missing-subset}
spec:
  hosts: [subsets.test]
  http: [{route: [{destination: {host: subsets.test, subset: v2}}]}]
`,
  // resolution NONE behind the egress gateway: the gateway has nothing to dial (503 UH)
  httpServiceEntry('none', 'none.test', 8000, 'NONE'),
  egressGateway('egress', ['none.test']),
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: none-via-egress}
spec:
  hosts: [none.test]
  gateways: [egress, mesh]
  http:
  - match: [{gateways: [mesh], port: 8000}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}}]
  - match: [{gateways: [egress], port: 80}]
    route: [{destination: {host: none.test, port: {number: 8000}}}]
`,
);

describe('Istio outcomes, end to end', {
  skip: rootOnly('Istio outcomes, end to end', 'dnsmasq on loopback aliases'),
}, () => {
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  let site: http.Server;
  let up: UpProcess;
  let sidecarProxy: string;
  let gatewayIp: string;

  const cli = (...args: string[]) => tollgate(args, up);

  /** curl through the sleep sidecar: status code, body and elapsed seconds. */
  async function curl(url: string, extra: string[] = []): Promise<{ code: number; body: string; seconds: number }> {
    const r = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code} %{time_total}', ...extra, url], {
      http_proxy: sidecarProxy,
    });
    const lines = r.stdout.split('\n');
    const [code, seconds] = lines.pop()!.split(' ');
    return { code: Number(code), body: lines.join('\n'), seconds: Number(seconds) };
  }

  async function lastLog(proxy: string, namespace: string, needle: string): Promise<Record<string, unknown>> {
    return eventually(
      async () => {
        const r = await cli('logs', proxy, '-n', namespace);
        const line = r.stdout
          .split('\n')
          .filter((l) => l.includes(needle))
          .at(-1);
        return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      },
      3_000,
      `a ${proxy} log line with ${needle}`,
    );
  }

  before(async () => {
    dns = await startDnsmasq({
      'httpbin.test': SITE_IP,
      'dead.test': DEAD_IP,
      'subsets.test': SITE_IP,
      'none.test': SITE_IP,
    });
    site = http.createServer((req, res) => {
      const delay = /^\/delay\/(\d+)/.exec(req.url ?? '');
      const reply = (): void => {
        const body = JSON.stringify({ url: req.url, headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (delay) setTimeout(reply, Number(delay[1]) * 1000);
      else reply();
    });
    await new Promise<void>((resolve) => site.listen(8000, SITE_IP, resolve));
    const dir = tempDir('outcomes');
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), CONFIG);
    up = await startUp(['--config-dir', dir, '--pod-cidr', POD_CIDR, '--dns-server', dns.server]);
    await eventually(async () => ((await cli('status')).code === 0 ? true : undefined), 10_000, 'proxies in sync');
    const status = (await cli('status')).stdout;
    sidecarProxy = `http://${/sleep\.default\s+sidecar\s+(\S+)/.exec(status)![1]}:15001`;
    gatewayIp = /istio-egressgateway\.istio-system\s+gateway\s+(\S+)/.exec(status)![1]!;
  });

  after(async () => {
    await up?.stop();
    site?.closeAllConnections();
    site?.close();
    dns?.stop();
  });

  test('the directory config was reported, not refused: up printed the analyzers findings', () => {
    assert.match(up.output(), /error TG1002 VirtualService default\/none-via-egress/);
  });

  test('route timeout: 504 UT after the timeout, not after the upstream', async () => {
    const r = await curl('http://httpbin.test:8000/delay/3');
    assert.equal(r.code, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.ok(r.seconds >= 0.9 && r.seconds < 2.5, `took ${r.seconds}s`);
    const log = await lastLog('sleep', 'default', '/delay/3');
    assert.equal(log.response_flags, 'UT');
    assert.equal(log.route_name, 'slow');
    assert.equal(log.upstream_cluster, 'outbound|8000||httpbin.test');
  });

  test('a destination header mutation reaches the upstream', async () => {
    const r = await curl('http://httpbin.test:8000/headers');
    assert.equal(r.code, 200);
    const echoed = JSON.parse(r.body) as { headers: Record<string, string> };
    assert.equal(echoed.headers['x-egress-tag'], 'tollgate');
    assert.ok(echoed.headers['x-request-id'], 'a request id is added');
  });

  test('REGISTRY_ONLY: an unregistered host gets 502 block_all', async () => {
    const r = await curl('http://unregistered.test:8000/');
    assert.equal(r.code, 502);
    assert.equal(r.body, '');
    assert.equal((await lastLog('sleep', 'default', 'unregistered.test')).route_name, 'block_all');
  });

  test('connect failure: 503 UF, with URX once the default retries are spent', async () => {
    const r = await curl('http://dead.test:8000/');
    assert.equal(r.code, 503);
    assert.match(r.body, /^upstream connect error or disconnect\/reset before headers/);
    const log = await lastLog('sleep', 'default', 'dead.test');
    assert.equal(log.response_flags, 'UF,URX');
    assert.equal(log.upstream_host, `${DEAD_IP}:8000`);
  });

  test('a subset no DestinationRule defines: 503 NC', async () => {
    const r = await curl('http://subsets.test:8000/');
    assert.equal(r.code, 503);
    const log = await lastLog('sleep', 'default', 'subsets.test');
    assert.equal(log.response_flags, 'NC');
    assert.equal(log.response_code_details, 'cluster_not_found');
    assert.equal(log.upstream_cluster, '-', 'Envoy has no cluster to name on NC; the details say why');
  });

  test('resolution NONE behind the egress gateway: 503 UH at the gateway', async () => {
    const r = await curl('http://none.test:8000/');
    assert.equal(r.code, 503);
    assert.equal(r.body, 'no healthy upstream');
    const gw = await lastLog('istio-egressgateway', 'istio-system', 'none.test');
    assert.equal(gw.response_flags, 'UH');
    assert.equal(gw.response_code_details, 'no_healthy_upstream');
    const sidecar = await lastLog('sleep', 'default', 'none.test');
    assert.equal(sidecar.upstream_cluster, 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local');
    assert.equal(sidecar.response_code, 503);
  });

  test('a host the gateway does not bind: 404 NR at the gateway', async () => {
    const r = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Host: elsewhere.test',
      `http://${gatewayIp}:8080/`,
    ]);
    assert.equal(r.stdout, '404');
    const gw = await lastLog('istio-egressgateway', 'istio-system', 'elsewhere.test');
    assert.equal(gw.response_flags, 'NR');
    assert.equal(gw.response_code_details, 'route_not_found');
  });
});
