// One attempt at one upstream endpoint: dial (through the cluster's pool), send the request, wait for response
// headers. Every failure rejects with a ProxyError; nothing here writes to the client.
import { request, type Agent, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Target } from './cluster-lb.js';
import { ProxyError } from './errors.js';
import { formatAddress } from './stream-info.js';

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
  /** Set when the upstream answered 101: the connection, detached from the pool, and bytes read past the headers. */
  upgraded(): { socket: Socket; head: Buffer } | undefined;
}

export function startAttempt(o: AttemptOptions): Attempt {
  let settled = false;
  let connected = false;
  let bodyStarted = false;
  let local: string | undefined;
  let upgraded: { socket: Socket; head: Buffer } | undefined;
  let connectTimer: NodeJS.Timeout | undefined;
  let perTryTimer: NodeJS.Timeout | undefined;
  let fail: (err: ProxyError) => void = () => {};

  const req = request({
    host: o.target.ip,
    port: o.target.port,
    method: o.method,
    path: o.path,
    headers: o.headers,
    agent: o.agent,
    setHost: false,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });

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
      local = formatAddress(socket.localAddress, socket.localPort);
      // The body waits for the connection so a connect failure leaves it unread and the request retryable.
      if (settled) return;
      if (o.hasBody) {
        bodyStarted = true;
        o.body.on('data', o.onBodyChunk);
        o.body.pipe(req);
      } else req.end();
    };
    req.on('socket', (socket: Socket) => {
      if (socket.connecting) {
        connectTimer = setTimeout(
          () =>
            fail(new ProxyError('upstream_connect_timeout', `connect to ${o.target.ip}:${o.target.port} timed out`)),
          o.connectTimeoutMs,
        );
        socket.once('connect', () => onConnected(socket));
      } else onConnected(socket);
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
    upgraded: () => upgraded,
  };
}
