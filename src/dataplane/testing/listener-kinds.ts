// Every listener kind a proxy runs, each in a data plane of its own over the same clusters: a sidecar (HTTP on
// port 80, SNI passthrough of tls.test on 443, a blackhole otherwise), a gateway HTTP port, and a gateway TLS port
// that passes tls.test through and terminates gw.test. The robustness tests throw faults and raw bytes at each.
import net from 'node:net';
import tls from 'node:tls';
import type { ProxyConfig } from '../../proxy-config/types.js';
import {
  blackholeChain,
  cluster,
  clusterRoute,
  gatewayConfig,
  type Harness,
  sidecarConfig,
  startPlane,
  startUpstream,
  tcpChain,
  testNode,
  vhost,
} from './fixtures.js';
import { serverCertificate, startTlsUpstream } from './tls-fixtures.js';

export interface ListenerKinds {
  /** The sidecar, the gateway HTTP port and the gateway TLS port, in that order. */
  readonly planes: readonly { readonly name: string; readonly h: Harness }[];
  close(): Promise<void>;
}

/** The three planes, with an HTTP upstream for web.test and a TLS one for tls.test and gw.test behind them. */
export async function startEveryListenerKind(): Promise<ListenerKinds> {
  const web = await startUpstream((_req, res) => res.end('ok'));
  const secure = await startTlsUpstream(['tls.test', 'gw.test']);
  const planes: { name: string; h: Harness }[] = [];
  const clusters = [
    cluster('PassthroughCluster', 'ORIGINAL_DST'),
    cluster('BlackHoleCluster', 'STATIC'),
    cluster('web', 'STATIC', [{ address: '127.0.0.1', port: web.port }]),
    cluster('tls', 'STATIC', [{ address: '127.0.0.1', port: secure.port }]),
  ];
  const routes = [{ name: '80', virtualHosts: [vhost('web.test:80', ['web.test'], [clusterRoute('r', 'web')])] }];
  const sidecar = sidecarConfig({
    routeConfigs: routes,
    clusters,
    filterChains: [
      {
        name: '80|http',
        match: { destinationPort: 80, transportProtocol: 'raw_buffer' },
        filter: { kind: 'http', routeConfigName: '80' },
      },
      tcpChain('443|tls.test', { destinationPort: 443, serverNames: ['tls.test'], transportProtocol: 'tls' }, 'tls'),
    ],
    defaultFilterChain: blackholeChain,
  });
  const gatewayHttp = gatewayConfig({
    routeConfigs: [{ name: 'http.80', virtualHosts: [vhost('web.test:80', ['web.test'], [clusterRoute('r', 'web')])] }],
    clusters,
  });
  const cert = serverCertificate(['gw.test']);
  const gatewayTls: ProxyConfig = {
    ...gatewayHttp,
    node: testNode('127.0.0.1', 'router'),
    listeners: [
      {
        kind: 'gateway-network',
        name: '0.0.0.0_8443',
        address: '127.0.0.1',
        port: 0,
        servicePort: 443,
        filterChains: [
          tcpChain('pass', { serverNames: ['tls.test'], transportProtocol: 'tls' }, 'tls'),
          {
            name: 'term',
            match: { serverNames: ['gw.test'], transportProtocol: 'tls' },
            tls: {
              mode: 'SIMPLE',
              certificateChain: { pem: cert.certificatePem },
              privateKey: { pem: cert.keyPem },
              subjectAltNames: [],
            },
            filter: { kind: 'http', routeConfigName: 'http.80' },
          },
        ],
      },
    ],
  };
  planes.push({ name: 'sidecar', h: await startPlane(sidecar) });
  planes.push({ name: 'gateway HTTP', h: await startPlane(gatewayHttp) });
  planes.push({ name: 'gateway TLS', h: await startPlane(gatewayTls) });
  return {
    planes,
    async close() {
      for (const p of planes) await p.h.close();
      await web.close();
      await secure.close();
    },
  };
}

/** The first bytes of a real ClientHello for `servername`, captured from Node's own TLS client. */
export async function captureClientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const hello = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => s.once('data', (d: Buffer) => resolve(d))),
  );
  const client = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}
