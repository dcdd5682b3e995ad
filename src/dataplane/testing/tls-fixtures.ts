// TLS peers for the data plane's tests: a CA made per run, HTTPS and TCP upstreams, and a client for CONNECT.
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { type IssuedCertificate, LocalCa } from '../../pki/index.js';

let shared: LocalCa | undefined;

/** One CA for the whole test process: making keys is the slow part. */
export function testCa(): LocalCa {
  shared ??= LocalCa.create('tollgate test CA');
  return shared;
}

export function serverCertificate(names: readonly string[], ca = testCa()): IssuedCertificate {
  return ca.issue({ dnsNames: names, ipAddresses: ['127.0.0.1'] });
}

export interface TlsUpstream {
  readonly port: number;
  readonly seen: { url: string; headers: IncomingHttpHeaders; servername: string | undefined; peer?: string }[];
  close(): Promise<void>;
}

/** An HTTPS server for `names`, answering 200 "hello over tls" unless `handler` says otherwise. */
export async function startTlsUpstream(
  names: readonly string[],
  options: { requestCert?: boolean; handler?: (req: IncomingMessage, res: ServerResponse) => void } = {},
): Promise<TlsUpstream> {
  const cert = serverCertificate(names);
  const seen: TlsUpstream['seen'] = [];
  const server = createHttpsServer(
    {
      cert: cert.certificatePem,
      key: cert.keyPem,
      ca: testCa().certificatePem,
      requestCert: options.requestCert === true,
      rejectUnauthorized: options.requestCert === true,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = options.requestCert ? socket.getPeerCertificate().subjectaltname : undefined;
      seen.push({
        url: req.url ?? '',
        headers: req.headers,
        servername: (socket as TLSSocket & { servername?: string | false }).servername || undefined,
        ...(peer !== undefined ? { peer } : {}),
      });
      if (options.handler) options.handler(req, res);
      else res.end('hello over tls');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server that echoes every byte back, prefixed with "echo:" once per chunk. */
export async function startEchoServer(): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const state = { connections: 0 };
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('data', (d) => s.write(`echo:${d.toString()}`));
    s.on('end', () => s.end());
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ConnectReply {
  /** The proxy's status code for the CONNECT. */
  readonly status: number;
  /** The whole answer when it was not 200 (the connection is then closed). */
  readonly text: string;
  /** The open tunnel, after a 200. */
  readonly socket: Socket;
}

/** Sends `CONNECT authority` to the proxy and waits for its answer. */
export function connectThrough(proxyPort: number, authority: string): Promise<ConnectReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1', () => {
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: tunnel-test\r\n\r\n`);
    });
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      if (status === 200) {
        socket.off('data', onData);
        const rest = Buffer.from(text.slice(end + 4), 'latin1');
        if (rest.length > 0) socket.unshift(rest);
        resolve({ status, text, socket });
      }
    };
    socket.on('data', onData);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, socket }));
    socket.on('error', reject);
  });
}

/** A TLS client over an open tunnel (or any socket), trusting the test CA. Resolves once the handshake is done. */
export function startTls(socket: Socket, servername: string, extra: tls.ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, servername, ca: testCa().certificatePem, ...extra }, () => resolve(secure));
    secure.on('error', reject);
  });
}

/** Writes one HTTP/1.1 request on the socket and reads the response until the connection closes. */
export function httpOver(socket: Socket, host: string, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}
