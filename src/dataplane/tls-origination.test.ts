// TLS originated by the proxy (DestinationRule tls SIMPLE / MUTUAL): the app speaks plain HTTP, the upstream gets
// HTTPS; a certificate that does not verify is a 503 UF with the reason in the access log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalCa } from '../pki/index.js';
import type { UpstreamTls } from '../proxy-config/types.js';
import { cluster, clusterRoute, send, sidecarConfig, startPlane, vhost } from './testing/fixtures.js';
import { startTlsUpstream, testCa, type TlsUpstream } from './testing/tls-fixtures.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

describe('TLS origination', () => {
  let plain: TlsUpstream;
  let mutual: TlsUpstream;
  let dir: string;
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };

  before(async () => {
    plain = await startTlsUpstream(['tls.test']);
    mutual = await startTlsUpstream(['mtls.test'], { requestCert: true });
    dir = tempDir('origination');
  });
  after(async () => {
    await plain.close();
    await mutual.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function get(
    host: string,
    port: number,
    tls: UpstreamTls,
  ): Promise<{ status: number; body: string; log: Record<string, unknown> }> {
    const h = await startPlane(
      sidecarConfig({
        routeConfigs: [{ name: '80', virtualHosts: [vhost(`${host}:80`, [host], [clusterRoute('r', 'c')])] }],
        clusters: [cluster('c', 'STATIC', [{ address: '127.0.0.1', port }], { tls })],
      }),
    );
    try {
      const reply = await send(h.port(), `http://${host}/page`);
      await h.waitForLogs(1);
      return { status: reply.status, body: reply.body, log: h.logs[0]!.record as unknown as Record<string, unknown> };
    } finally {
      await h.close();
    }
  }

  const simple = (extra: Partial<UpstreamTls> = {}): UpstreamTls => ({
    mode: 'SIMPLE',
    trustedCa: { file: file('ca.pem', testCa().certificatePem) },
    subjectAltNames: [],
    insecureSkipVerify: false,
    ...extra,
  });

  it('SIMPLE: plain HTTP from the app leaves as HTTPS, SNI from the Host, certificate checked against the CA', async () => {
    const r = await get('tls.test', plain.port, simple());
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello over tls');
    assert.equal(plain.seen.at(-1)?.servername, 'tls.test');
    assert.equal(plain.seen.at(-1)?.url, '/page');
    assert.equal(r.log.upstream_transport_failure_reason, undefined);
  });

  it('an explicit sni is sent instead of the Host', async () => {
    const r = await get('alias.test', plain.port, simple({ sni: 'tls.test' }));
    assert.equal(r.status, 200);
    assert.equal(plain.seen.at(-1)?.servername, 'tls.test');
  });

  it('a certificate from another CA: 503 UF, the TLS error in upstream_transport_failure_reason', async () => {
    const other = LocalCa.create('someone else');
    const r = await get('tls.test', plain.port, simple({ trustedCa: { pem: other.certificatePem } }));
    assert.equal(r.status, 503);
    assert.equal(r.log.response_flags, 'UF');
    assert.equal(r.log.response_code_details, 'upstream_reset_before_response_started{connection_failure,TLS_error}');
    assert.match(
      String(r.log.upstream_transport_failure_reason),
      /^TLS_error:\|.*(verify|certificate).*:TLS_error_end$/i,
    );
  });

  it('subjectAltNames the certificate does not carry: 503 UF', async () => {
    const r = await get('tls.test', plain.port, simple({ subjectAltNames: ['spiffe://cluster.local/ns/x/sa/y'] }));
    assert.equal(r.status, 503);
    assert.match(
      String(r.log.upstream_transport_failure_reason),
      /match none of spiffe:\/\/cluster\.local\/ns\/x\/sa\/y/,
    );
  });

  it('insecureSkipVerify accepts any certificate', async () => {
    const other = LocalCa.create('someone else');
    const r = await get(
      'tls.test',
      plain.port,
      simple({ trustedCa: { pem: other.certificatePem }, insecureSkipVerify: true }),
    );
    assert.equal(r.status, 200);
  });

  it('MUTUAL: presents the client certificate', async () => {
    const client = testCa().issue({ uris: ['spiffe://cluster.local/ns/istio-system/sa/egress'] });
    const tls: UpstreamTls = {
      ...simple(),
      mode: 'MUTUAL',
      certificateChain: { file: file('client.pem', client.certificatePem) },
      privateKey: { file: file('client.key', client.keyPem) },
    };
    const r = await get('mtls.test', mutual.port, tls);
    assert.equal(r.status, 200);
    assert.equal(mutual.seen.at(-1)?.peer, 'URI:spiffe://cluster.local/ns/istio-system/sa/egress');
  });

  it('a CA file that cannot be read fails that cluster (503 UF, the file named), not the config', async () => {
    const r = await get('tls.test', plain.port, simple({ trustedCa: { file: '/nonexistent/ca.pem' } }));
    assert.equal(r.status, 503);
    assert.equal(r.log.response_flags, 'UF');
    assert.match(
      String(r.log.upstream_transport_failure_reason),
      /cannot read CA certificates \/nonexistent\/ca\.pem: ENOENT/,
    );
  });
});
