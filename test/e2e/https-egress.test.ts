// HTTPS egress end to end: istio.io's three HTTPS tasks with their published YAML (test/corpus), REGISTRY_ONLY
// refusing unregistered HTTPS, --isolate, TLS origination failing on a certificate it cannot trust, and faults on
// CONNECT that once took the whole `tollgate up` down. Real processes: `tollgate up`, the CLI, curl, dnsmasq, and
// an HTTPS stand-in for edition.cnn.com on port 443 with a certificate from a CA made here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import {
  EXAMPLES,
  eventually,
  ROOT,
  rootOnly,
  run,
  startDnsmasq,
  startUp,
  tempDir,
  tollgate,
  type UpProcess,
} from '../helpers/processes.js';
import { startTlsSite, type TlsSite } from '../helpers/tls-site.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SITE_IP = `127.${octet()}.${octet()}.30`;
const POD_CIDR = `127.${octet()}.${octet()}.0/24`;
const CORPUS = path.join(ROOT, 'test', 'corpus');
const task = (name: string): string => path.join(CORPUS, name);

describe('HTTPS egress', { skip: rootOnly('HTTPS egress', 'its HTTPS stand-in listens on port 443') }, () => {
  let dir: string;
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  let site: TlsSite;
  let up: UpProcess;
  const cli = (...args: string[]) => tollgate(args, up);

  /** `curl` run as the sleep workload; returns curl's exit code, the HTTP code and the body. */
  async function curl(
    url: string,
    ...extra: string[]
  ): Promise<{ exit: number; http: string; body: string; stderr: string }> {
    const r = await cli(
      'exec',
      'sleep',
      '--',
      'curl',
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      site.caFile,
      '-w',
      '\n%{http_code}',
      ...extra,
      url,
    );
    const lines = r.stdout.split('\n');
    return { exit: r.code, http: lines.at(-1) ?? '', body: lines.slice(0, -1).join('\n'), stderr: r.stderr };
  }

  async function lastLine(proxy: string, namespace: string, grep: string): Promise<Record<string, unknown>> {
    return eventually(
      async () => {
        const line = (await cli('logs', proxy, '-n', namespace)).stdout
          .split('\n')
          .filter((l) => l.includes(grep))
          .at(-1);
        return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      },
      3_000,
      `a ${proxy} log line with ${grep}`,
    );
  }

  async function sleepAddress(): Promise<string> {
    const row = (await cli('status')).stdout.split('\n').find((l) => l.startsWith('sleep.default'));
    assert.ok(row);
    return row.split(/\s+/)[2]!;
  }

  async function apply(...files: string[]): Promise<void> {
    const r = await cli('apply', '--wait', ...files.flatMap((f) => ['-f', f]));
    assert.equal(r.code, 0, r.stderr);
  }

  async function remove(...files: string[]): Promise<void> {
    const r = await cli('delete', '--wait', ...files.flatMap((f) => ['-f', f]));
    assert.equal(r.code, 0, r.stderr);
  }

  before(async () => {
    dir = tempDir('https');
    dns = await startDnsmasq({ 'edition.cnn.com': SITE_IP });
    site = await startTlsSite(SITE_IP, 443, ['edition.cnn.com'], dir);
    // The site's CA joins the public ones the proxies trust, as an operator's own CA would.
    up = await startUp(
      ['--config-dir', path.join(dir, 'mesh'), '--pod-cidr', POD_CIDR, '--dns-server', dns.server],
      undefined,
      { NODE_EXTRA_CA_CERTS: site.caFile },
    );
    await apply(path.join(EXAMPLES, 'sleep.yaml'));
  });

  after(async () => {
    await up?.stop();
    await site?.close();
    dns?.stop();
  });

  test('a CONNECT reset mid-way at the sidecar or at the gateway takes nothing down', async () => {
    const status = (await cli('status')).stdout;
    const address = (name: string): string =>
      status
        .split('\n')
        .find((l) => l.startsWith(name))!
        .split(/\s+/)[2]!;
    for (const [host, port] of [
      [address('sleep.default'), 15001],
      [address('istio-egressgateway.istio-system'), 8080],
    ] as const) {
      for (let i = 0; i < 4; i++) {
        await new Promise<void>((resolve) => {
          const s = net.connect(port, host, () => {
            s.write('CONNECT edition.cnn.com:443 HTTP/1.1\r\nHost: edition.cnn.com:443\r\n\r\n');
            setTimeout(() => s.resetAndDestroy(), 10);
          });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
        });
      }
    }
    assert.equal(up.child.exitCode, null, `tollgate up is still running:\n${up.output().slice(-2000)}`);
    assert.equal((await cli('status')).code, 0);
  });

  test('ALLOW_ANY: HTTPS leaves through the sidecar (CONNECT, PassthroughCluster), logged with its SNI', async () => {
    const r = await curl('https://edition.cnn.com/politics');
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.http, '200');
    assert.equal(site.requests.at(-1)?.sni, 'edition.cnn.com');
    assert.equal(site.requests.at(-1)?.remote, await sleepAddress(), 'the site sees the pod address');
    const log = await lastLine('sleep', 'default', '"method":"CONNECT"');
    assert.equal(log.authority, 'edition.cnn.com:443');
    assert.equal(log.upstream_cluster, 'PassthroughCluster');
    assert.equal(log.requested_server_name, 'edition.cnn.com');
    assert.equal(log.response_code, 200);

    // The same from an isolated command: its only way out is the sidecar, and that way works.
    const isolated = await cli(
      'exec',
      '--isolate',
      'sleep',
      '--',
      'curl',
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      site.caFile,
      'https://edition.cnn.com/isolated',
    );
    assert.equal(isolated.code, 0, isolated.stderr);
    assert.match(isolated.stdout, /hello from edition\.cnn\.com\/isolated/);
  });

  test('REGISTRY_ONLY: unregistered HTTPS is refused with a reason, and logged (BlackHoleCluster)', async () => {
    const registryOnly = path.join(EXAMPLES, 'registry-only.yaml');
    await apply(registryOnly);
    try {
      const before = site.requests.length;
      const r = await curl('https://edition.cnn.com/');
      assert.notEqual(r.exit, 0);
      assert.match(r.stderr, /CONNECT tunnel failed, response 502/);
      assert.equal(site.requests.length, before, 'nothing reached the site');
      const log = await lastLine('sleep', 'default', '"response_code":502');
      assert.equal(log.method, 'CONNECT');
      assert.equal(log.route_name, 'block_all');
      assert.equal(log.upstream_cluster, 'BlackHoleCluster');

      // A client that ignores the proxy variables is not stopped by the sidecar; --isolate closes that hole.
      const isolated = await cli(
        'exec',
        '--isolate',
        'sleep',
        '--',
        'curl',
        '-sS',
        '--max-time',
        '5',
        '--noproxy',
        '*',
        `https://${SITE_IP}/`,
      );
      assert.notEqual(isolated.code, 0, 'the isolated command cannot reach the site directly');
      assert.equal(site.requests.length, before);
    } finally {
      await remove(registryOnly);
    }
  });

  test('istio.io Egress Gateways, HTTPS: SNI passthrough through the gateway, one connection line there', async () => {
    const t = task('egress-gateway-https-passthrough');
    const files = ['cnn-service-entry.yaml', 'egress-gateway.yaml', 'direct-cnn-through-egress-gateway.yaml'].map((f) =>
      path.join(t, f),
    );
    await apply(path.join(EXAMPLES, 'registry-only.yaml'), ...files);
    try {
      const r = await curl('https://edition.cnn.com/politics');
      assert.equal(r.exit, 0, r.stderr);
      assert.equal(r.http, '200');
      assert.match(r.body, /hello from edition\.cnn\.com\/politics/);
      const status = (await cli('status')).stdout;
      const gatewayIp = status
        .split('\n')
        .find((l) => l.startsWith('istio-egressgateway'))!
        .split(/\s+/)[2]!;
      assert.equal(site.requests.at(-1)?.remote, gatewayIp, 'the site sees the gateway');

      const gw = await lastLine('istio-egressgateway', 'istio-system', '"requested_server_name":"edition.cnn.com"');
      assert.equal(gw.upstream_cluster, 'outbound|443||edition.cnn.com');
      assert.equal(gw.upstream_host, `${SITE_IP}:443`);
      assert.equal(gw.downstream_local_address, `${gatewayIp}:8443`);
      assert.match(
        String(gw.downstream_remote_address),
        new RegExp(`^${(await sleepAddress()).replace(/\./g, '\\.')}:`),
      );
      assert.ok(Number(gw.bytes_received) > 0 && Number(gw.bytes_sent) > 0);
      assert.equal(gw.method, '-');
      const sidecar = await lastLine('sleep', 'default', '"method":"CONNECT"');
      assert.equal(sidecar.upstream_cluster, 'outbound|443|cnn|istio-egressgateway.istio-system.svc.cluster.local');

      // A name the gateway does not route: the connection is closed (NR, filter_chain_not_found).
      await new Promise<void>((resolve) => {
        const s = tls.connect({ host: gatewayIp, port: 8443, servername: 'other.cnn.com', rejectUnauthorized: false });
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
      const nr = await lastLine('istio-egressgateway', 'istio-system', '"requested_server_name":"other.cnn.com"');
      assert.equal(nr.response_flags, 'NR');
      assert.equal(nr.response_code_details, 'filter_chain_not_found');
    } finally {
      await remove(path.join(EXAMPLES, 'registry-only.yaml'), ...files);
    }
  });

  test('istio.io Egress TLS Origination: plain HTTP from the app leaves the sidecar as HTTPS', async () => {
    const file = path.join(task('egress-tls-origination'), 'edition-cnn-com.yaml');
    await apply(file);
    try {
      const r = await curl('http://edition.cnn.com/politics');
      assert.equal(r.exit, 0, r.stderr);
      assert.equal(r.http, '200', 'no 301 to https: the sidecar originated TLS');
      assert.equal(site.requests.at(-1)?.sni, 'edition.cnn.com');
      const log = await lastLine('sleep', 'default', '"path":"/politics"');
      assert.equal(log.upstream_cluster, 'outbound|80||edition.cnn.com');
      assert.equal(log.upstream_host, `${SITE_IP}:443`);
    } finally {
      await remove(file);
    }
  });

  test('TLS origination to a certificate the proxy cannot trust: 503 UF, the reason in the log', async () => {
    const otherCa = path.join(dir, 'not-the-site-ca.pem');
    fs.writeFileSync(otherCa, (await import('../../src/pki/index.js')).LocalCa.create('someone else').certificatePem);
    const file = path.join(dir, 'origination-bad-ca.yaml');
    fs.writeFileSync(
      file,
      fs
        .readFileSync(path.join(task('egress-tls-origination'), 'edition-cnn-com.yaml'), 'utf8')
        .replace('mode: SIMPLE', `mode: SIMPLE\n        caCertificates: ${otherCa}`),
    );
    await apply(file);
    try {
      const r = await curl('http://edition.cnn.com/bad-ca');
      assert.equal(r.http, '503');
      const log = await lastLine('sleep', 'default', '"path":"/bad-ca"');
      assert.match(String(log.response_flags), /^UF/);
      assert.match(String(log.upstream_transport_failure_reason), /^TLS_error:\|.*certificate.*:TLS_error_end$/i);
    } finally {
      await remove(file);
    }
  });

  test('istio.io Egress Gateways with TLS Origination: mesh mTLS to the gateway, HTTPS from it', async () => {
    const t = task('egress-gateway-tls-origination');
    const files = [
      'cnn-service-entry.yaml',
      'egress-gateway.yaml',
      'direct-cnn-through-egress-gateway.yaml',
      'originate-tls.yaml',
    ].map((f) => path.join(t, f));
    await apply(...files);
    try {
      const r = await curl('http://edition.cnn.com/politics');
      assert.equal(r.exit, 0, r.stderr);
      assert.equal(r.http, '200');
      assert.match(r.body, /hello from edition\.cnn\.com\/politics/);
      const gw = await lastLine('istio-egressgateway', 'istio-system', '"path":"/politics"');
      assert.equal(gw.upstream_cluster, 'outbound|443||edition.cnn.com');
      assert.equal(gw.requested_server_name, 'edition.cnn.com', 'the sidecar sent the DestinationRule sni');
      const sidecar = await lastLine('sleep', 'default', '"path":"/politics"');
      assert.equal(sidecar.upstream_cluster, 'outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local');

      // The gateway's port 80 now takes mesh mTLS only: plain HTTP is not served.
      const status = (await cli('status')).stdout;
      const gatewayIp = status
        .split('\n')
        .find((l) => l.startsWith('istio-egressgateway'))!
        .split(/\s+/)[2]!;
      const plain = await run('curl', [
        '-sS',
        '--max-time',
        '5',
        '-H',
        'Host: edition.cnn.com',
        `http://${gatewayIp}:8080/`,
      ]);
      assert.notEqual(plain.code, 0);
    } finally {
      await remove(...files);
    }
  });
});
