// One attempt at one upstream endpoint: dial (through the cluster's pool), send the request, wait for response
// headers. Every failure rejects with a ProxyError; nothing here writes to the client.
import {
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestOptions,
  request,
} from 'node:http';
import { request as tlsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Target } from './cluster-lb.js';
import type { CompiledCluster } from './compile-clusters.js';
import { ProxyError } from './errors.js';
import { transportFailureReason } from './network/tls-failure.js';
import { splitAuthority } from './request-view.js';
import { addressesOf } from './stream-info.js';

/** TLS originated on this attempt: the server name to send and how to check the certificate against it. */
export interface AttemptTls {
  /** Undefined when the request's host is an IP address and no SNI is configured: none is sent. */
  readonly servername: string | undefined;
  checkServerIdentity(servername: string, cert: PeerCertificate): Error | undefined;
}

export interface AttemptOptions {
  readonly target: Target;
  readonly method: string;
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly agent: Agent;
  readonly localAddress: string | undefined;
  readonly connectTimeoutMs: number;
  readonly perTryTimeoutMs: number | undefined;
  /** The downstream request, whose body is streamed upstream once connected. */
  readonly body: IncomingMessage;
  readonly hasBody: boolean;
  /** Each body chunk as it goes upstream (byte counts, the mirror's copy). */
  readonly onBodyChunk: (chunk: Buffer) => void;
  /** Present when the cluster originates TLS (the agent is then a TLS one). */
  readonly tls: AttemptTls | undefined;
}

export interface Attempt {
  /** Resolves with the response once its headers arrived. */
  readonly response: Promise<IncomingMessage>;
  readonly request: ClientRequest;
  abort(err: ProxyError): void;
  /** True once any of the downstream body went to this attempt: it cannot be replayed. */
  bodySent(): boolean;
  /** "ip:port" of our end of the connection, once connected. */
  localAddress(): string | undefined;
  /** True when the attempt went out on a pooled keep-alive connection rather than a new one. */
  reusedConnection(): boolean;
  /** Set when the upstream answered 101: the connection, detached from the pool, and bytes read past the headers. */
  upgraded(): { socket: Socket; head: Buffer } | undefined;
}

/** An HTTP request upstream, over TLS when the cluster originates it (the agent is then a TLS agent). */
export function upstreamRequest(options: RequestOptions, tls: AttemptTls | undefined): ClientRequest {
  if (!tls) return request(options);
  return tlsRequest({
    ...options,
    // An empty servername sends no SNI (an IP address must not be sent as one).
    servername: tls.servername ?? '',
    checkServerIdentity: (host: string, cert: PeerCertificate) => tls.checkServerIdentity(tls.servername ?? host, cert),
  });
}

/**
 * The TLS an attempt to this cluster originates, undefined for plain clusters. Without a configured SNI the host
 * the request goes upstream with is sent (Envoy's auto SNI), unless it is an IP address. Throws (503 UF, with the
 * reason as the transport failure) when the cluster's certificates could not be loaded.
 */
export function attemptTlsFor(cluster: CompiledCluster, upstreamHost: string | undefined): AttemptTls | undefined {
  const tls = cluster.tls;
  if (!tls) return undefined;
  if (!tls.ok) throw new ProxyError('upstream_tls_failure', tls.reason, { transportFailureReason: tls.reason });
  let servername = tls.sni;
  if (servername === undefined && upstreamHost !== undefined) {
    const { host } = splitAuthority(upstreamHost);
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    if (isIP(bare) === 0) servername = bare;
  }
  return { servername, checkServerIdentity: tls.checkServerIdentity };
}

export function startAttempt(o: AttemptOptions): Attempt {
  let settled = false;
  let connected = false;
  /** TCP is up but the TLS handshake is not done: a failure now is a transport failure. */
  let handshaking = false;
  let bodyStarted = false;
  let local: string | undefined;
  let reused = false;
  let upgraded: { socket: Socket; head: Buffer } | undefined;
  let connectTimer: NodeJS.Timeout | undefined;
  let perTryTimer: NodeJS.Timeout | undefined;
  let fail: (err: ProxyError) => void = () => {};

  const common = {
    host: o.target.ip,
    port: o.target.port,
    method: o.method,
    path: o.path,
    headers: o.headers,
    agent: o.agent,
    setHost: false,
    // No SNI on a plain connection. Given here, Node's agent does not work one out from the Host header on every
    // request (two IP-address regular expressions run over it); TLS attempts set their own (upstreamRequest).
    servername: '',
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  };
  const tls = o.tls;
  const req = upstreamRequest(common, tls);

  const response = new Promise<IncomingMessage>((resolve, reject) => {
    fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(perTryTimer);
      err.bodySent = bodyStarted;
      req.destroy();
      reject(err);
    };
    const onConnected = (socket: Socket): void => {
      connected = true;
      clearTimeout(connectTimer);
      // Once per connection: a pooled connection keeps its address (and the formatting) for every request on it.
      local = addressesOf(socket).local;
      // The body waits for the connection so a connect failure leaves it unread and the request retryable.
      if (settled) return;
      if (o.hasBody) {
        bodyStarted = true;
        o.body.on('data', o.onBodyChunk);
        o.body.pipe(req);
      } else req.end();
    };
    req.on('socket', (socket: Socket) => {
      // A pooled connection is ready (and, for TLS, already verified); a new one must connect first.
      if (req.reusedSocket) {
        reused = true;
        onConnected(socket);
        return;
      }
      connectTimer = setTimeout(
        () => fail(new ProxyError('upstream_connect_timeout', `connect to ${o.target.ip}:${o.target.port} timed out`)),
        o.connectTimeoutMs,
      );
      if (tls) {
        socket.once('connect', () => {
          handshaking = true;
        });
        (socket as TLSSocket).once('secureConnect', () => {
          handshaking = false;
          onConnected(socket);
        });
      } else {
        // A fresh socket counts as connected only once it says so: one that failed at once (EINVAL) never does,
        // and its error is a connection failure (UF), not a termination.
        socket.once('connect', () => onConnected(socket));
      }
    });
    req.on('response', (res) => {
      if (settled) {
        res.resume();
        return;
      }
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(perTryTimer);
      resolve(res);
    });
    // Only requests that asked for an upgrade get a 101; Node hands over the raw connection.
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (settled) {
        socket.destroy();
        return;
      }
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(perTryTimer);
      upgraded = { socket, head };
      resolve(res);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (handshaking) {
        const reason = transportFailureReason(err);
        fail(
          new ProxyError('upstream_tls_failure', `${o.target.ip}:${o.target.port}: ${reason}`, {
            cause: err,
            transportFailureReason: reason,
          }),
        );
        return;
      }
      const code = connected ? 'upstream_connection_termination' : 'upstream_connection_failure';
      fail(new ProxyError(code, `${o.target.ip}:${o.target.port}: ${err.code ?? err.message}`, { cause: err }));
    });
    if (o.perTryTimeoutMs) {
      perTryTimer = setTimeout(() => fail(new ProxyError('upstream_per_try_timeout')), o.perTryTimeoutMs);
    }
  });

  // Callers may stop waiting (route timeout, downstream gone) before the attempt settles.
  response.catch(() => {});
  return {
    response,
    request: req,
    abort: (err) => fail(err),
    bodySent: () => bodyStarted,
    localAddress: () => local,
    reusedConnection: () => reused,
    upgraded: () => upgraded,
  };
}
