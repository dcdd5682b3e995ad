// Gateway ports with TLS, HTTPS or TCP servers: SNI passthrough, TLS termination (SIMPLE, MUTUAL) and
// connections no chain takes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FilterChain, ProxyConfig } from '../../proxy-config/types.js';
import {
  cluster,
  clusterRoute,
  startPlane,
  startUpstream,
  testNode,
  vhost,
  type Upstream,
} from '../testing/fixtures.js';
import {
  httpOver,
  serverCertificate,
  startTls,
  startTlsUpstream,
  testCa,
  type TlsUpstream,
} from '../testing/tls-fixtures.js';

function gatewayNetwork(chains: FilterChain[], extra: Partial<ProxyConfig> = {}): ProxyConfig {
  return {
    version: 'v1',
    node: testNode('127.0.0.1', 'router'),
    listeners: [
      {
        kind: 'gateway-network',
        name: '0.0.0.0_8443',
        address: '127.0.0.1',
        port: 0,
        servicePort: 443,
        filterChains: chains,
      },
    ],
    routeConfigs: [],
    clusters: [],
    accessLog: { enabled: true, path: '/dev/stdout', encoding: 'JSON' },
    ...extra,
  };
}

describe('gateway TLS ports', () => {
  let secure: TlsUpstream;
  let web: Upstream;

  before(async () => {
    secure = await startTlsUpstream(['edition.cnn.test']);
    web = await startUpstream((req, res) => res.end(`proto=${req.headers['x-forwarded-proto']}`));
  });
  after(async () => {
    await secure.close();
    await web.close();
  });

  const passthrough = gatewayNetwork(
    [
      {
        name: 'cnn',
        match: { serverNames: ['edition.cnn.test'], transportProtocol: 'tls' },
        filter: { kind: 'tcp-proxy', clusters: [{ cluster: 'outbound|443||edition.cnn.test', weight: 100 }] },
      },
    ],
    { clusters: [] },
  );

  it('PASSTHROUGH: proxies the bytes to the cluster the SNI picks; one connection-level log line', async () => {
    const cfg: ProxyConfig = {
      ...passthrough,
      clusters: [cluster('outbound|443||edition.cnn.test', 'STATIC', [{ address: '127.0.0.1', port: secure.port }])],
    };
    const h = await startPlane(cfg);
    try {
      const socket = net.connect(h.port(), '127.0.0.1');
      const tlsSocket = await startTls(socket, 'edition.cnn.test');
      const answer = await httpOver(tlsSocket, 'edition.cnn.test', '/politics');
      assert.match(answer, /hello over tls$/);
      assert.equal(secure.seen.at(-1)?.url, '/politics');
      await h.waitForLogs(1);
      const log = h.logs[0]!.record;
      assert.equal(log.requested_server_name, 'edition.cnn.test');
      assert.equal(log.upstream_cluster, 'outbound|443||edition.cnn.test');
      assert.equal(log.upstream_host, `127.0.0.1:${secure.port}`);
      assert.equal(log.method, undefined);
      assert.equal(log.response_code, 0);
      assert.equal(log.downstream_remote_address?.startsWith('127.0.0.1:'), true);
      assert.ok(log.bytes_received > 0 && log.bytes_sent > 0);
    } finally {
      await h.close();
    }
  });

  it('closes a connection whose SNI no chain takes (NR, filter_chain_not_found)', async () => {
    const h = await startPlane(passthrough);
    try {
      const socket = net.connect(h.port(), '127.0.0.1');
      await assert.rejects(startTls(socket, 'other.test'));
      await h.waitForLogs(1);
      const log = h.logs[0]!.record;
      assert.equal(log.response_flags, 'NR');
      assert.equal(log.response_code_details, 'filter_chain_not_found');
      assert.equal(log.requested_server_name, 'other.test');
    } finally {
      await h.close();
    }
  });

  function terminating(mode: 'SIMPLE' | 'MUTUAL'): ProxyConfig {
    const cert = serverCertificate(['gw.test']);
    return gatewayNetwork(
      [
        {
          name: 'https',
          match: { serverNames: ['gw.test'], transportProtocol: 'tls' },
          tls: {
            mode,
            certificateChain: { pem: cert.certificatePem },
            privateKey: { pem: cert.keyPem },
            ...(mode === 'MUTUAL' ? { trustedCa: { pem: testCa().certificatePem } } : {}),
            subjectAltNames: [],
          },
          filter: { kind: 'http', routeConfigName: 'https.443.https.gw.istio-system' },
        },
      ],
      {
        routeConfigs: [
          {
            name: 'https.443.https.gw.istio-system',
            virtualHosts: [vhost('gw.test:443', ['gw.test'], [clusterRoute('r', 'web')])],
          },
        ],
        clusters: [cluster('web', 'STATIC', [{ address: '127.0.0.1', port: web.port }])],
      },
    );
  }

  it('HTTPS SIMPLE: terminates TLS with the server certificate and routes the requests (X-Forwarded-Proto https)', async () => {
    const h = await startPlane(terminating('SIMPLE'));
    try {
      const tlsSocket = await startTls(net.connect(h.port(), '127.0.0.1'), 'gw.test');
      const answer = await httpOver(tlsSocket, 'gw.test');
      assert.match(answer, /proto=https$/);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.route_name, 'r');
      assert.equal(h.logs[0]!.record.upstream_cluster, 'web');
    } finally {
      await h.close();
    }
  });

  it('HTTPS MUTUAL: refuses a client without a certificate from the CA, serves one with', async () => {
    const h = await startPlane(terminating('MUTUAL'));
    try {
      // With TLS 1.3 the client may finish its side of the handshake before the server's alert arrives.
      const refused = await startTls(net.connect(h.port(), '127.0.0.1'), 'gw.test')
        .then((s) => httpOver(s, 'gw.test'))
        .catch(() => 'handshake refused');
      assert.doesNotMatch(refused, /^HTTP\/1\.1 200/);
      await h.waitForLogs(1);
      assert.equal(h.logs[0]!.record.response_code_details, 'downstream_tls_handshake_failed');

      const client = testCa().issue({ uris: ['spiffe://cluster.local/ns/default/sa/sleep'] });
      const tlsSocket = await startTls(net.connect(h.port(), '127.0.0.1'), 'gw.test', {
        cert: client.certificatePem,
        key: client.keyPem,
      });
      assert.match(await httpOver(tlsSocket, 'gw.test'), /^HTTP\/1\.1 200/);
    } finally {
      await h.close();
    }
  });

  it('a certificate file that cannot be read breaks that chain only, with the file named', async () => {
    const cfg = terminating('SIMPLE');
    const listener = cfg.listeners[0]!;
    assert.equal(listener.kind, 'gateway-network');
    const broken: ProxyConfig = {
      ...cfg,
      listeners: [
        {
          ...listener,
          filterChains: [
            {
              ...(listener.kind === 'gateway-network' ? listener.filterChains[0]! : ({} as FilterChain)),
              tls: {
                mode: 'SIMPLE',
                certificateChain: { file: '/nonexistent/server.pem' },
                privateKey: { file: '/nonexistent/server.key' },
                subjectAltNames: [],
              },
            },
          ],
        },
      ],
    };
    const h = await startPlane(broken);
    try {
      await assert.rejects(startTls(net.connect(h.port(), '127.0.0.1'), 'gw.test'));
      await h.waitForLogs(1);
      assert.match(h.logs[0]!.record.connection_termination_details ?? '', /\/nonexistent\/server\.pem: ENOENT/);
      assert.ok(h.warnings.some((w) => w.includes('/nonexistent/server.pem')));
    } finally {
      await h.close();
    }
  });
});
