import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource, GatewayServer, ServerTLSSettings } from '../../model/index.js';
import { buildSnapshot } from '../build.js';
import {
  clientTls,
  deployment,
  destinationRule,
  gateway,
  http,
  match,
  port,
  serviceEntry,
  tlsServer,
  to,
  virtualService,
} from '../testing/fixtures.js';
import type { TlsSecret } from '../types.js';
import { type AnalysisEnvironment, analyze } from './index.js';

const PEM = '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n';
const secret = (parts: Partial<Omit<TlsSecret, 'source'>>, source = '/mesh/secrets/x'): TlsSecret => ({
  source,
  ...parts,
});
const FULL = secret({ certificateChain: PEM, privateKey: PEM, trustedCa: PEM });
const PAIR = secret({ certificateChain: PEM, privateKey: PEM });

const run = (
  resources: AnyResource[],
  secrets: Record<string, TlsSecret> = {},
  env: AnalysisEnvironment = { secretsRead: true },
) =>
  analyze(buildSnapshot({ version: 'v1', resources, instances: [], secrets: new Map(Object.entries(secrets)) }), env);
const only = (code: string, ...args: Parameters<typeof run>) => run(...args).filter((d) => d.code === code);

const GW = 'istio-system/egress';
const NGINX = 'my-nginx.mesh-external.svc.cluster.local';
const nginx = serviceEntry('nginx', { hosts: [NGINX], ports: [port(80, 'HTTP', 'http'), port(443, 'HTTPS', 'https')] });

function server(mode: ServerTLSSettings['mode'], tls: Partial<ServerTLSSettings> = {}): GatewayServer {
  const s = tlsServer(443, ['*.example.com'], mode, 'HTTPS');
  return { ...s, tls: { mode, httpsRedirect: false, subjectAltNames: [], ...tls } };
}

/** istio.io's mutual TLS origination at the gateway: the gateway's rule routes to the host, the rule sits beside it. */
function mtlsOrigination(drNamespace = 'istio-system'): AnyResource[] {
  return [
    nginx,
    gateway('egress', [tlsServer(443, [NGINX], 'ISTIO_MUTUAL', 'HTTPS')]),
    virtualService('direct-nginx', {
      hosts: [NGINX],
      gateways: [GW, 'mesh'],
      http: [
        http({
          match: [match({ gateways: ['mesh'], port: 80 })],
          route: [to('istio-egressgateway.istio-system.svc.cluster.local', { port: 443 })],
        }),
        http({ match: [match({ gateways: [GW], port: 443 })], route: [to(NGINX, { port: 443 })] }),
      ],
    }),
    destinationRule(
      'originate-mtls',
      {
        host: NGINX,
        trafficPolicy: {
          portLevelSettings: [{ port: 443, tls: clientTls('MUTUAL', { credentialName: 'client-credential' }) }],
        },
      },
      drNamespace,
    ),
    deployment('sleep', { app: 'sleep' }),
  ];
}

describe('TG1014 CredentialNotFound and TG1015 CredentialIncomplete: Gateway servers', () => {
  it('a SIMPLE server whose credential has no folder: error at credentialName, naming the folder', () => {
    const gw = gateway('egress', [server('SIMPLE', { credentialName: 'cnn-cert' })]);
    const ds = only('TG1014', [gw]);
    assert.deepEqual(
      ds.map((d) => [d.level, d.field]),
      [['error', 'spec.servers[0].tls.credentialName']],
    );
    assert.match(ds[0]?.message ?? '', /no secrets\/istio-system\/cnn-cert\//);
    assert.match(ds[0]?.message ?? '', /cannot terminate TLS on port 443/);
    assert.match(ds[0]?.hint ?? '', /Create secrets\/istio-system\/cnn-cert\/ with tls\.crt and tls\.key/);
  });

  it('the credential is looked up in the namespace of the gateway workload, wherever the Gateway is written', () => {
    const gw = gateway('egress', [server('SIMPLE', { credentialName: 'cnn-cert' })]);
    assert.equal(only('TG1014', [gw], { 'default/cnn-cert': PAIR }).length, 1);
    assert.deepEqual(only('TG1014', [gw], { 'istio-system/cnn-cert': PAIR }), []);
    const elsewhere = gateway(
      'egress',
      [server('SIMPLE', { credentialName: 'cnn-cert' })],
      { istio: 'egressgateway' },
      'default',
    );
    assert.deepEqual(only('TG1014', [elsewhere], { 'istio-system/cnn-cert': PAIR }), []);
    const [d] = only('TG1014', [elsewhere], { 'default/cnn-cert': PAIR });
    assert.match(
      d?.message ?? '',
      /its gateways \(gateway istio-egressgateway\.istio-system\) read it from namespace istio-system/,
    );
    assert.match(d?.hint ?? '', /Create secrets\/istio-system\/cnn-cert\//);
  });

  it('a SIMPLE credential without key, a MUTUAL one without CA; the -cacert companion supplies the CA', () => {
    const simple = gateway('a', [server('SIMPLE', { credentialName: 'c' })]);
    const noKey = only('TG1015', [simple], { 'istio-system/c': secret({ certificateChain: PEM }) });
    assert.deepEqual(
      noKey.map((d) => [d.level, d.field]),
      [['error', 'spec.servers[0].tls.credentialName']],
    );
    assert.match(noKey[0]?.message ?? '', /has no private key \(tls\.key or key\)/);
    const mutual = gateway('b', [server('MUTUAL', { credentialName: 'c' })]);
    const noCa = only('TG1015', [mutual], { 'istio-system/c': PAIR });
    assert.match(noCa[0]?.message ?? '', /has no CA certificate/);
    assert.deepEqual(only('TG1015', [mutual], { 'istio-system/c': PAIR, 'istio-system/c-cacert': FULL }), []);
    assert.deepEqual(only('TG1015', [mutual], { 'istio-system/c': FULL }), []);
  });

  it('near misses: modes that use no credential, and files analyzed without their secrets folder', () => {
    const gw = gateway('egress', [
      server('PASSTHROUGH', { credentialName: 'a' }),
      { ...server('ISTIO_MUTUAL', { credentialName: 'b' }), port: { number: 8443, protocol: 'HTTPS', name: 'h2' } },
    ]);
    assert.deepEqual(only('TG1014', [gw]), []);
    const simple = gateway('egress', [server('SIMPLE', { credentialName: 'c' })]);
    assert.deepEqual(only('TG1014', [simple], {}, { secretsRead: false }), []);
  });
});

describe('TG1014 CredentialNotFound and TG1015 CredentialIncomplete: DestinationRules', () => {
  it('the egress gateway that uses the rule reads the credential from its own namespace', () => {
    const ds = only('TG1014', mtlsOrigination(), { 'default/client-credential': PAIR });
    assert.deepEqual(
      ds.map((d) => [d.resource?.name, d.field]),
      [['originate-mtls', 'spec.trafficPolicy.portLevelSettings[0].tls.credentialName']],
    );
    assert.match(
      ds[0]?.message ?? '',
      /gateway istio-egressgateway\.istio-system\) read it from namespace istio-system/,
    );
    assert.doesNotMatch(ds[0]?.message ?? '', /sidecar/, 'sleep goes through the gateway, not to the host');
    assert.deepEqual(only('TG1014', mtlsOrigination(), { 'istio-system/client-credential': PAIR }), []);
  });

  it('MUTUAL needs the certificate and key', () => {
    const ds = only('TG1015', mtlsOrigination(), { 'istio-system/client-credential': secret({ trustedCa: PEM }) });
    assert.match(ds[0]?.message ?? '', /has no certificate \(tls\.crt or cert\) and no private key/);
  });

  it('sidecars that reach the host by the default route read it from their namespace', () => {
    const dr = destinationRule('to-nginx', {
      host: NGINX,
      trafficPolicy: { tls: clientTls('SIMPLE', { credentialName: 'nginx-ca' }), portLevelSettings: [] },
    });
    const sleep = [deployment('sleep', { app: 'sleep' }), deployment('curl', { app: 'curl' }, 'team-b')];
    const ds = only('TG1014', [nginx, dr, ...sleep], { 'team-b/nginx-ca': FULL });
    assert.equal(ds.length, 1);
    assert.match(
      ds[0]?.message ?? '',
      /sidecar sleep\.default, sidecar curl\.team-b\) read it from namespace default,/,
    );
  });

  it('near misses: a rule no proxy uses, a subset no route names', () => {
    const unused = destinationRule('u', {
      host: 'nothing.example.com',
      trafficPolicy: { tls: clientTls('SIMPLE', { credentialName: 'x' }), portLevelSettings: [] },
    });
    const subset = destinationRule('s', {
      host: NGINX,
      subsets: [
        {
          name: 'v1',
          labels: {},
          trafficPolicy: { tls: clientTls('MUTUAL', { credentialName: 'y' }), portLevelSettings: [] },
        },
      ],
    });
    assert.deepEqual(only('TG1014', [nginx, unused, subset, deployment('sleep', { app: 'sleep' })]), []);
  });
});

describe('TG1016 CertificateFileUnreadable', () => {
  const files = (...present: string[]): AnalysisEnvironment => ({
    secretsRead: true,
    fileReadable: (p) => present.includes(p),
  });

  it('server and client files that cannot be read: warnings at each field, saying where proxies read them', () => {
    const gw = gateway('egress', [
      server('MUTUAL', {
        serverCertificate: '/certs/tls.crt',
        privateKey: '/certs/tls.key',
        caCertificates: '/ca.pem',
      }),
    ]);
    const dr = destinationRule('d', {
      host: NGINX,
      trafficPolicy: {
        portLevelSettings: [
          { port: 443, tls: clientTls('MUTUAL', { clientCertificate: '/c.pem', privateKey: '/k.pem' }) },
        ],
      },
    });
    const ds = only('TG1016', [nginx, gw, dr], {}, files('/certs/tls.crt', '/k.pem'));
    assert.deepEqual(
      ds.map((d) => [d.level, d.resource?.name, d.field]),
      [
        ['warning', 'd', 'spec.trafficPolicy.portLevelSettings[0].tls.clientCertificate'],
        ['warning', 'egress', 'spec.servers[0].tls.privateKey'],
        ['warning', 'egress', 'spec.servers[0].tls.caCertificates'],
      ],
    );
    assert.match(ds[0]?.message ?? '', /\/c\.pem cannot be read on this host/);
    assert.match(ds[0]?.message ?? '', /separate-process layout/);
  });

  it('near misses: files a mode ignores, a credentialName, no file capability', () => {
    const dr = destinationRule('d', {
      host: NGINX,
      trafficPolicy: {
        tls: clientTls('SIMPLE', { clientCertificate: '/c.pem', privateKey: '/k.pem' }),
        portLevelSettings: [{ port: 443, tls: clientTls('ISTIO_MUTUAL', { caCertificates: '/ca.pem' }) }],
      },
    });
    const gw = gateway('egress', [server('SIMPLE', { credentialName: 'c', serverCertificate: '/s.pem' })]);
    assert.deepEqual(only('TG1016', [nginx, dr, gw], { 'istio-system/c': PAIR }, files()), []);
    const plain = destinationRule('p', {
      host: NGINX,
      trafficPolicy: { tls: clientTls('SIMPLE', { caCertificates: '/ca.pem' }), portLevelSettings: [] },
    });
    assert.equal(only('TG1016', [nginx, plain], {}, files()).length, 1);
    assert.deepEqual(only('TG1016', [nginx, plain], {}, { secretsRead: true }), []);
  });
});
