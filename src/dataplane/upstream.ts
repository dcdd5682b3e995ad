// One attempt at one upstream endpoint: take a connection from the cluster's pool, send the request, wait for the
// response head. Every failure rejects with a ProxyError; nothing here writes to the client.
import { isIP, type Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { Target } from './cluster-lb.js';
import type { CompiledCluster } from './compile-clusters.js';
import { ProxyError } from './errors.js';
import type { Exchange, ExchangeEvents, ExchangeOptions, HeaderLines, UpstreamPool } from './http1/pool.js';
import type { BodySource, UpstreamResponse } from './http1/types.js';
import { transportFailureReason } from './network/tls-failure.js';
import { splitAuthority } from './request-view.js';

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
  readonly headers: HeaderLines;
  readonly pool: UpstreamPool;
  readonly localAddress: string | undefined;
  readonly connectTimeoutMs: number;
  readonly perTryTimeoutMs: number | undefined;
  /** The downstream request, whose body is streamed upstream once connected. */
  readonly body: BodySource;
  /** Each body chunk as it goes upstream (byte counts, the mirror's copy). */
  readonly onBodyChunk: (chunk: Buffer) => void;
  /** Called once the downstream body has ended (the mirror's copy is then complete). */
  readonly onBodyEnd: () => void;
  /** Present when the cluster originates TLS (the pool then makes TLS connections). */
  readonly tls: AttemptTls | undefined;
}

/** Where an attempt's outcome goes: exactly one of the two, once, never inside the call that started or aborted it. */
export interface AttemptListener {
  /** The response head arrived (for a 101, `attempt.upgraded()` holds the connection). */
  attemptResponded(attempt: Attempt, res: UpstreamResponse): void;
  /** The attempt failed, timed out or was aborted. */
  attemptFailed(attempt: Attempt, err: ProxyError): void;
}

export interface Attempt {
  /** Stops the attempt; its listener hears `err` as its failure, on a later microtask. */
  abort(err: ProxyError): void;
  /** True once any of the downstream body went to this attempt: it cannot be replayed. */
  bodySent(): boolean;
  /** "ip:port" of our end of the connection, once connected. */
  localAddress(): string | undefined;
  /** True when the attempt went out on a pooled keep-alive connection rather than a new one. */
  reusedConnection(): boolean;
  /** Set when the upstream answered 101: the connection, out of the pool, and bytes read past the head. */
  upgraded(): { socket: Socket; head: Buffer } | undefined;
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

/** What an exchange needs to originate the attempt's TLS: no SNI for an IP address (an empty servername). */
export function tlsExchangeOptions(
  tls: AttemptTls | undefined,
): Pick<ExchangeOptions, 'servername' | 'checkServerIdentity'> {
  return tls ? { servername: tls.servername ?? '', checkServerIdentity: tls.checkServerIdentity } : PLAIN;
}

/** A plain exchange: no object made per request for it. */
const PLAIN: Pick<ExchangeOptions, 'servername' | 'checkServerIdentity'> = Object.freeze({});

export function startAttempt(o: AttemptOptions, listener: AttemptListener): Attempt {
  return new AttemptRun(o, listener);
}

/** One attempt's state: the exchange's events land here, as methods rather than closures made per request. */
class AttemptRun implements Attempt, ExchangeEvents {
  private readonly o: AttemptOptions;
  private readonly listener: AttemptListener;
  private readonly exchange: Exchange;
  private settled = false;
  private connected = false;
  private bodyStarted = false;
  private local: string | undefined;
  private reused = false;
  private upgradedTo: { socket: Socket; head: Buffer } | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private perTryTimer: NodeJS.Timeout | undefined;

  constructor(o: AttemptOptions, listener: AttemptListener) {
    this.o = o;
    this.listener = listener;
    const tls = tlsExchangeOptions(o.tls);
    this.exchange = o.pool.exchange(
      {
        ip: o.target.ip,
        port: o.target.port,
        localAddress: o.localAddress,
        method: o.method,
        path: o.path,
        headers: o.headers,
        hasBody: o.body.hasBody,
        servername: tls.servername,
        checkServerIdentity: tls.checkServerIdentity,
      },
      this,
    );
    if (o.perTryTimeoutMs) {
      this.perTryTimer = setTimeout(() => this.timedOut(new ProxyError('upstream_per_try_timeout')), o.perTryTimeoutMs);
    }
  }

  onSocket(reused: boolean): void {
    this.reused = reused;
    if (reused || this.settled) return;
    const { ip, port } = this.o.target;
    this.connectTimer = setTimeout(
      () => this.timedOut(new ProxyError('upstream_connect_timeout', `connect to ${ip}:${port} timed out`)),
      this.o.connectTimeoutMs,
    );
  }

  onConnected(local: string): void {
    this.connected = true;
    clearTimeout(this.connectTimer);
    this.local = local;
    // The body waits for the connection so a connect failure leaves it unread and the request retryable.
    if (this.settled || !this.o.body.hasBody) return;
    this.bodyStarted = true;
    const body = this.o.body;
    const exchange = this.exchange;
    const onChunk = this.o.onBodyChunk;
    const onEnd = this.o.onBodyEnd;
    exchange.onDrain(() => body.resume());
    body.onData((chunk) => {
      onChunk(chunk);
      if (!exchange.write(chunk)) body.pause();
    });
    body.onEnd(() => {
      onEnd();
      exchange.end();
    });
  }

  onResponse(res: UpstreamResponse): void {
    if (this.settled) {
      res.destroy();
      return;
    }
    this.settle();
    this.listener.attemptResponded(this, res);
  }

  onUpgrade(res: UpstreamResponse, socket: Socket, head: Buffer): void {
    if (this.settled) {
      socket.destroy();
      return;
    }
    this.settle();
    this.upgradedTo = { socket, head };
    this.listener.attemptResponded(this, res);
  }

  onError(err: Error, phase: 'connect' | 'tls' | 'exchange'): void {
    if (this.settled) return;
    const { ip, port } = this.o.target;
    if (phase === 'tls') {
      const reason = transportFailureReason(err as NodeJS.ErrnoException);
      this.fail(
        new ProxyError('upstream_tls_failure', `${ip}:${port}: ${reason}`, {
          cause: err,
          transportFailureReason: reason,
        }),
      );
      return;
    }
    const code =
      phase === 'connect' && !this.connected ? 'upstream_connection_failure' : 'upstream_connection_termination';
    const detail = (err as NodeJS.ErrnoException).code ?? err.message;
    this.fail(new ProxyError(code, `${ip}:${port}: ${detail}`, { cause: err }));
  }

  abort(err: ProxyError): void {
    if (this.settled) return;
    this.exchange.destroy();
    this.settle();
    err.bodySent = this.bodyStarted;
    // Never inside the caller's own call: it may be in the middle of its own bookkeeping.
    queueMicrotask(() => this.listener.attemptFailed(this, err));
  }

  bodySent(): boolean {
    return this.bodyStarted;
  }

  localAddress(): string | undefined {
    return this.local;
  }

  reusedConnection(): boolean {
    return this.reused;
  }

  upgraded(): { socket: Socket; head: Buffer } | undefined {
    return this.upgradedTo;
  }

  /** A timer of the attempt's own fired: it runs on its own tick, so the listener hears of it at once. */
  private timedOut(err: ProxyError): void {
    if (this.settled) return;
    this.exchange.destroy();
    this.fail(err);
  }

  private fail(err: ProxyError): void {
    if (this.settled) return;
    this.settle();
    err.bodySent = this.bodyStarted;
    this.listener.attemptFailed(this, err);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.perTryTimer);
  }
}
