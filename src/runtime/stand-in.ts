// Stand-ins for external sites (`tollgate up --stand-in aliyun.com`), so the walkthrough works without internet.
// Each site gets its own loopback address and answers as the walkthrough's site does: every plain-HTTP request
// gets a 301 to the same URL over https. Traffic reaches it through a connect-to rule (HOST:80 -> address:port),
// so names, Host headers, routing and access logs stay those of the real site; nothing is resolved.
//
// A site is a set of listeners, one per service port and protocol (LISTENERS). Plain HTTP on port 80 is the one
// served now; HTTPS on 443, with a certificate for the site from a local CA that `up` creates, is a second entry.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectToRule } from '../dataplane/index.js';

export interface StandInListener {
  /** The port clients (and the mesh) use for the real site. */
  readonly servicePort: number;
  readonly protocol: 'http';
  /** Where the stand-in actually listens: the service port when it could bind it, else one the system chose. */
  readonly port: number;
  close(): Promise<void>;
}

export interface StandInSite {
  readonly host: string;
  readonly address: string;
  readonly listeners: readonly StandInListener[];
  /** curl-style rules sending the site's traffic to the stand-in. */
  readonly connectTo: readonly ConnectToRule[];
  close(): Promise<void>;
}

/** What a stand-in site serves: each entry opens one listener. */
const LISTENERS: readonly { readonly servicePort: number; readonly protocol: 'http' }[] = [
  { servicePort: 80, protocol: 'http' },
];

/** `host` must be a DNS name: the stand-in answers for it on `address`, its own loopback address. */
export async function startStandIn(host: string, address: string): Promise<StandInSite> {
  const name = host.toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(name)) {
    throw new Error(`--stand-in ${host}: expected a DNS name such as aliyun.com`);
  }
  const listeners: StandInListener[] = [];
  try {
    for (const l of LISTENERS) listeners.push(await listenHttp(address, l.servicePort));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  const connectTo = listeners.map((l) => ({ host1: name, port1: l.servicePort, host2: address, port2: l.port }));
  return {
    host: name,
    address,
    listeners,
    connectTo,
    close: async () => {
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}

/** Answers every request with a 301 to the same host and path over https, as the walkthrough's site does. */
function redirectToHttps(req: http.IncomingMessage, res: http.ServerResponse): void {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '') || 'localhost';
  const path = req.url?.startsWith('/') ? req.url : '/';
  const body = '<html><head><title>301 Moved Permanently</title></head><body>301 Moved Permanently</body></html>\n';
  res.writeHead(301, {
    location: `https://${host}${path}`,
    server: 'tollgate-stand-in',
    'content-type': 'text/html',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function listenHttp(address: string, servicePort: number): Promise<StandInListener> {
  const server = http.createServer(redirectToHttps);
  server.keepAliveTimeout = 5_000;
  // The service port where permitted (port 80 needs root), else any free port: connect-to hides the difference.
  const port = (await tryListen(server, address, servicePort)) ?? (await tryListen(server, address, 0, true))!;
  return {
    servicePort,
    protocol: 'http',
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function tryListen(
  server: http.Server,
  address: string,
  port: number,
  mustSucceed = false,
): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (mustSucceed || (err.code !== 'EACCES' && err.code !== 'EADDRINUSE')) {
        reject(new Error(`stand-in cannot listen on ${address}:${port}: ${err.code ?? err.message}`));
      } else resolve(undefined);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, address);
  });
}
