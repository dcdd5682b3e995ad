// The stand-in for an external HTTPS site: a certificate for its names from a CA the test makes, and a record of
// what reached it (the SNI it was asked for, the request, and from where).
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { LocalCa } from '../../src/pki/index.js';

export interface TlsSiteRequest {
  readonly sni: string | undefined;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly remote: string;
}

export interface TlsSite {
  readonly requests: TlsSiteRequest[];
  /** The CA's certificate as a file, for curl --cacert and NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  close(): Promise<void>;
}

/** Serves HTTPS for `names` on address:port, answering 200 "hello from <host><path>". */
export async function startTlsSite(
  address: string,
  port: number,
  names: readonly string[],
  dir: string,
): Promise<TlsSite> {
  const ca = LocalCa.create('tollgate e2e site CA');
  const cert = ca.issue({ dnsNames: names });
  const caFile = path.join(dir, 'site-ca.pem');
  fs.writeFileSync(caFile, ca.certificatePem);
  const requests: TlsSiteRequest[] = [];
  const server = https.createServer({ cert: cert.certificatePem, key: cert.keyPem }, (req, res) => {
    const socket = req.socket as TLSSocket & { servername?: string | false };
    requests.push({
      sni: socket.servername || undefined,
      method: req.method ?? '',
      host: req.headers.host ?? '',
      path: req.url ?? '',
      remote: socket.remoteAddress ?? '',
    });
    const body = `hello from ${(req.headers.host ?? '').split(':')[0]}${req.url}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    requests,
    caFile,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
