// Stand-ins for external sites (`tollgate up --stand-in aliyun.com`), so the walkthrough works without internet.
// Each site gets its own loopback address and answers as the walkthrough's site does: every plain-HTTP request
// gets a 301 to the same URL over https. Traffic reaches it through a connect-to rule (HOST:80 -> address:port),
// so names, Host headers, routing and access logs stay those of the real site; nothing is resolved.
//
// A site is a set of listeners, one per service port and protocol (LISTENERS): plain HTTP on 80 (the 301 to https)
// and HTTPS on 443, with a certificate for the site from the local CA that `up` keeps for its stand-ins
// (standInCa), so `curl https://aliyun.com` works offline too once the CA is trusted (`tollgate exec` does that).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ConnectToRule } from '../dataplane/index.js';
import { STATE_DIR } from '../distribution/admin-api.js';
import { LocalCa } from '../pki/index.js';

export interface StandInListener {
  /** The port clients (and the mesh) use for the real site. */
  readonly servicePort: number;
  readonly protocol: 'http' | 'https';
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
const LISTENERS: readonly { readonly servicePort: number; readonly protocol: 'http' | 'https' }[] = [
  { servicePort: 80, protocol: 'http' },
  { servicePort: 443, protocol: 'https' },
];

/** Where the stand-ins' CA lives in the config directory, and the trust bundle `tollgate exec` hands to commands. */
export function standInFiles(configDir: string): { dir: string; cert: string; key: string; bundle: string } {
  const dir = path.join(configDir, STATE_DIR, 'stand-in');
  return {
    dir,
    cert: path.join(dir, 'ca.pem'),
    key: path.join(dir, 'ca-key.pem'),
    bundle: path.join(dir, 'trust-bundle.pem'),
  };
}

/** The public CA bundles of the usual Linux distributions, for the trust bundle. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * The stand-ins' CA, kept in the config directory so that a trust given to it once lasts across restarts, and the
 * trust bundle (the system's public CAs plus this one) that `tollgate exec` points clients at while stand-ins run.
 */
export function standInCa(configDir: string): LocalCa {
  const f = standInFiles(configDir);
  let ca: LocalCa | undefined;
  try {
    ca = LocalCa.load(fs.readFileSync(f.cert, 'utf8'), fs.readFileSync(f.key, 'utf8'));
  } catch {
    ca = LocalCa.create('tollgate stand-in CA (local only)');
    // Readable by all (the certificate and the bundle are public); the key alone is the owner's.
    fs.mkdirSync(f.dir, { recursive: true, mode: 0o755 });
    fs.writeFileSync(f.key, ca.keyPem, { mode: 0o600 });
    fs.writeFileSync(f.cert, ca.certificatePem);
  }
  const system = SYSTEM_BUNDLES.map((p) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  }).find((text) => text.length > 0);
  fs.writeFileSync(f.bundle, `${system ?? ''}\n${ca.certificatePem}`);
  return ca;
}

/** Removes the trust bundle: with no stand-in running, commands keep their own trust. */
export function retireStandInTrust(configDir: string): void {
  fs.rmSync(standInFiles(configDir).bundle, { force: true });
}

/** `host` must be a DNS name: the stand-in answers for it on `address`, its own loopback address. */
export async function startStandIn(host: string, address: string, ca: LocalCa): Promise<StandInSite> {
  const name = host.toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(name)) {
    throw new Error(`--stand-in ${host}: expected a DNS name such as aliyun.com`);
  }
  const listeners: StandInListener[] = [];
  try {
    for (const l of LISTENERS) {
      listeners.push(
        l.protocol === 'http'
          ? await listenOn(http.createServer(redirectToHttps), address, l.servicePort, 'http')
          : await listenOn(https.createServer(siteCertificate(ca, name), servePage), address, l.servicePort, 'https'),
      );
    }
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

function siteCertificate(ca: LocalCa, host: string): { cert: string; key: string } {
  const issued = ca.issue({ commonName: host, dnsNames: [host], validityDays: 30 });
  return { cert: issued.certificatePem, key: issued.keyPem };
}

/** The site over https: a small page, as the real site's home page answers 200. */
function servePage(req: http.IncomingMessage, res: http.ServerResponse): void {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '') || 'localhost';
  const body = `<html><head><title>${host}</title></head><body>${host} (tollgate stand-in)</body></html>\n`;
  res.writeHead(200, {
    server: 'tollgate-stand-in',
    'content-type': 'text/html',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function listenOn(
  server: http.Server,
  address: string,
  servicePort: number,
  protocol: 'http' | 'https',
): Promise<StandInListener> {
  server.keepAliveTimeout = 5_000;
  // The service port where permitted (port 80 needs root), else any free port: connect-to hides the difference.
  const port = (await tryListen(server, address, servicePort)) ?? (await tryListen(server, address, 0, true))!;
  return {
    servicePort,
    protocol,
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
