// istio.io's "Egress Gateways" task (HTTP), with its YAML as published (examples/istio-egress-gateway/): a subset
// DestinationRule for the gateway Service and a Gateway named istio-egressgateway. Real processes, real curl,
// dnsmasq resolving edition.cnn.com to a stand-in on port 80.
import assert from 'node:assert/strict';
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

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SITE_IP = `127.${octet()}.${octet()}.20`;
const POD_CIDR = `127.${octet()}.${octet()}.0/24`;
const TASK = path.join(EXAMPLES, '..', 'istio-egress-gateway');

describe("istio.io's egress gateway task", {
  skip: rootOnly("istio.io's egress gateway task", 'its stand-in site listens on port 80'),
}, () => {
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  let site: Awaited<ReturnType<typeof startRedirectSite>>;
  let up: UpProcess;
  const cli = (...args: string[]) => tollgate(args, up);

  async function lastLine(proxy: string, namespace: string): Promise<Record<string, unknown>> {
    return eventually(
      async () => {
        const line = (await cli('logs', proxy, '-n', namespace)).stdout
          .split('\n')
          .filter((l) => l.includes('edition.cnn.com'))
          .at(-1);
        return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      },
      3_000,
      `${proxy} log line`,
    );
  }

  before(async () => {
    dns = await startDnsmasq({ 'edition.cnn.com': SITE_IP });
    site = await startRedirectSite(SITE_IP, 80);
    up = await startUp(['--config-dir', tempDir('cnn'), '--pod-cidr', POD_CIDR, '--dns-server', dns.server]);
  });

  after(async () => {
    await up?.stop();
    await site?.close();
    dns?.stop();
  });

  test('the task applies cleanly and curl reaches edition.cnn.com through the gateway subset', async () => {
    const applied = await cli('apply', '--wait', '-f', path.join(EXAMPLES, 'sleep.yaml'), '-f', TASK);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stderr, '', 'no findings on the published task');
    assert.match(applied.stdout, /destinationrule\.networking\.istio\.io\/egressgateway-for-cnn created/);

    const curl = await cli(
      'exec',
      'sleep',
      '--',
      'curl',
      '-sSL',
      '-o',
      '/dev/null',
      '-D',
      '-',
      '--max-redirs',
      '0',
      'http://edition.cnn.com/politics',
    );
    assert.match(curl.stdout, /^HTTP\/1\.1 301/);
    assert.match(curl.stdout, /location: https:\/\/edition\.cnn\.com\//i);

    const sidecar = await lastLine('sleep', 'default');
    assert.equal(sidecar.upstream_cluster, 'outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local');
    const gateway = await lastLine('istio-egressgateway', 'istio-system');
    assert.equal(gateway.upstream_cluster, 'outbound|80||edition.cnn.com');
    assert.equal(gateway.path, '/politics');
    assert.equal(gateway.upstream_host, `${SITE_IP}:80`);
    assert.equal(site.requests.at(-1)?.host, 'edition.cnn.com');
  });

  test('removing the DestinationRule leaves the subset undefined: the sidecar answers 503 NC', async () => {
    // Istio lets the delete happen; tollgate does too, and says what it breaks (IST0101: the route names subset cnn).
    const deleted = await cli('delete', '--wait', 'destinationrule', 'egressgateway-for-cnn');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(
      deleted.stderr,
      /error IST0101 VirtualService default\/direct-cnn-through-egress-gateway/,
      'delete says what it breaks',
    );
    const curl = await cli(
      'exec',
      'sleep',
      '--',
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'http://edition.cnn.com/politics',
    );
    assert.equal(curl.stdout, '503');
    const sidecar = await lastLine('sleep', 'default');
    assert.equal(sidecar.response_flags, 'NC');
    const analysis = await cli('analyze');
    assert.notEqual(analysis.code, 0);
    assert.match(
      analysis.stdout,
      /error IST0101 VirtualService default\/direct-cnn-through-egress-gateway spec\.http\[0\]\.route\[0\]\.destination\.subset/,
    );
  });
});
