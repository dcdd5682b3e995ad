// The cluster action: choose a cluster and endpoint, make attempts (with retries, route and per-try timeouts),
// then stream the response back. Failures are thrown as ProxyErrors for rescue.ts to answer.
import type { Socket } from 'node:net';
import type { RetryPolicy, WeightedCluster } from '../proxy-config/types.js';
import { resolveTargets, type EndpointDeps, type OriginalDestination } from './cluster-endpoints.js';
import type { Target } from './cluster-lb.js';
import type { CompiledCluster } from './compile-clusters.js';
import type { CompiledConfig } from './compile-config.js';
import type { CompiledClusterAction, CompiledRoute } from './compile-routes.js';
import { guardTargets, type GuardDeps } from './destination-guard.js';
import type { DownstreamGone } from './downstream-gone.js';
import { ProxyError } from './errors.js';
import { applyHeaderMutation, type ForwardedHeaders, rawWithoutHopByHop, withoutHopByHop } from './headers.js';
import type { DownstreamRequest, DownstreamResponse, UpstreamResponse } from './http1/types.js';
import type { RequestView } from './request-view.js';
import { backoffMs, errorIsRetriable, pickAvoiding, responseIsRetriable } from './retry.js';
import type { StreamInfo } from './stream-info.js';
import { attemptTlsFor, startAttempt, type Attempt, type AttemptListener, type AttemptTls } from './upstream.js';
import { localAddressFor } from './local-address.js';
import { startMirror, type MirrorCounters, type MirrorTap } from './mirror.js';
import type { AttemptOutcome } from './outlier.js';
import type { UpstreamPool } from './http1/pool.js';
import { destroyAfterHeld } from './http1/write-turn.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface ForwardDeps extends EndpointDeps, GuardDeps {
  readonly pools: UpstreamPools;
  /** The pod address upstream connections are made from. */
  readonly nodeIp: string;
  readonly now: () => number;
  readonly mirrors: MirrorCounters;
}

export interface ForwardRequest {
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly info: StreamInfo;
  readonly view: RequestView;
  readonly route: CompiledRoute;
  readonly action: CompiledClusterAction;
  readonly config: CompiledConfig;
  readonly original: OriginalDestination;
  /**
   * Request headers already cleaned and decorated by the connection manager, for this request alone: the route's
   * and cluster's mutations change them in place (through their headers object).
   */
  readonly headers: ForwardedHeaders;
  readonly hasBody: boolean;
  /** Fires when the client goes away before the response completed. */
  readonly downstreamGone: DownstreamGone;
  /** An upgrade request (WebSocket and the like): the client's raw connection and bytes read past its headers. */
  readonly upgrade?: { readonly socket: Socket; readonly head: Buffer } | undefined;
}

/**
 * Runs the cluster action. `done` is called once, never inside this call: with no error when the response has been
 * fully sent, else with the failure (a ProxyError for rescue.ts to answer). The request's owner passes on its
 * response's finish and drain (ForwardRun's responseFinished and responseDrained).
 */
export function forward(f: ForwardRequest, deps: ForwardDeps, done: (err?: unknown) => void): ForwardRun {
  const run = new ForwardRun(f, deps, done);
  run.start();
  return run;
}

const NOTHING_TRIED: ReadonlySet<string> = new Set();

function deadlinePassed(run: ForwardRun): void {
  run.deadlinePassed();
}

function backoffEnded(run: ForwardRun): void {
  run.afterBackoff();
}
/** Envoy's router sets it on every response it forwards, replacing one from upstream. */
const SERVICE_TIME = 'x-envoy-upstream-service-time';

/**
 * One request's cluster action, as a state machine driven by callbacks: the cluster and its targets, then attempts
 * (retries, back-off, the route timeout), then the response streamed back. Its steps are methods and its state is
 * fields, so a request that goes through in one attempt makes no promise and no closure beyond the few below.
 */
export class ForwardRun implements AttemptListener {
  private readonly f: ForwardRequest;
  private readonly deps: ForwardDeps;
  private readonly done: (err?: unknown) => void;
  private finished = false;
  private cluster: CompiledCluster | undefined;
  private weighted: WeightedCluster | undefined;
  private breakerHeld = false;
  private targets: readonly Target[] = [];
  private pool: UpstreamPool | undefined;
  private tls: AttemptTls | undefined;
  private hash: number | undefined;
  private upstream: { headers: ForwardedHeaders; path: string } | undefined;
  private onBodyChunk: (chunk: Buffer) => void = noop;
  private onBodyEnd: () => void = noop;
  private retriesUsed = 0;
  /** Set for the one replay of a request whose pooled connection turned out closed: the same host, anew. */
  private replay: Target | undefined;
  private replayed = false;
  /** Hosts already attempted: a retry goes elsewhere when it can (Istio's previous_hosts retry predicate). */
  private tried: Set<string> | undefined;
  /** The route timeout or the client going away, once either has stopped the attempts. */
  private stopped: ProxyError | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Listening for the client going away (until the response streams, or a tunnel takes over). */
  private listeningGone = false;
  private backoffTimer: NodeJS.Timeout | undefined;
  private attempt: Attempt | undefined;
  private target: Target | undefined;
  private untrack: () => void = noop;
  private startedMs = 0;
  /** The response being streamed to the client. */
  private response: UpstreamResponse | undefined;

  constructor(f: ForwardRequest, deps: ForwardDeps, done: (err?: unknown) => void) {
    this.f = f;
    this.deps = deps;
    this.done = done;
  }

  start(): void {
    const f = this.f;
    try {
      const weighted = f.action.pickCluster();
      const cluster = f.config.clusters.get(weighted.cluster);
      if (!cluster) throw new ProxyError('cluster_not_found', `cluster ${weighted.cluster} is not configured`);
      this.weighted = weighted;
      this.cluster = cluster;
      f.info.upstreamCluster = cluster.name;
      if (!cluster.breaker.tryAcquire()) throw new ProxyError('upstream_overflow', `cluster ${cluster.name} is full`);
      this.breakerHeld = true;
      // Targets worked out once for this config are used as they are, without a promise to wait on.
      const memo = cluster.memo.targets;
      if (memo === undefined) {
        resolveTargets(cluster, f.original, this.deps).then(
          (resolved) => this.guard(() => this.begin(resolved)),
          (err: unknown) => this.finish(err),
        );
        return;
      }
      this.begin(memo);
    } catch (err) {
      this.finishSoon(err);
    }
  }

  /** Called by the request's owner: the response has been handed to the connection. */
  responseFinished(): void {
    if (this.response !== undefined) this.finish(undefined);
  }

  /** Called by the request's owner: the client caught up after a write returned false. */
  responseDrained(): void {
    this.response?.resume();
  }

  // --- attempts ---

  private begin(resolved: readonly Target[]): void {
    const f = this.f;
    const cluster = this.cluster!;
    if (resolved.length === 0) throw new ProxyError('no_healthy_upstream', `cluster ${cluster.name} has no endpoints`);
    this.targets = guardTargets(resolved, this.deps, f.original, f.info);
    const upstream = upstreamRequestHeaders(f, this.weighted!);
    this.upstream = upstream;
    const tap = f.route.mirror ? mirrorTap(f, this.deps, upstream) : undefined;
    const info = f.info;
    if (tap) {
      this.onBodyChunk = (chunk) => {
        info.bytesReceived += chunk.length;
        tap.feed(chunk);
      };
      this.onBodyEnd = () => tap.end();
    } else if (f.hasBody) this.onBodyChunk = (chunk) => (info.bytesReceived += chunk.length);
    this.hash = cluster.hashKey?.(f.view, f.req.socket.remoteAddress);
    this.pool = this.deps.pools.get(cluster);
    const hostHeader = upstream.headers.get('host');
    this.tls = attemptTlsFor(cluster, typeof hostHeader === 'string' ? hostHeader : undefined);
    // The route timeout spans every attempt and back-off, up to the response headers; a client that goes away
    // ends the wait too. Either stops whatever is waiting at the time: the attempt in flight or the back-off.
    const timeoutMs = f.action.timeoutMs;
    if (timeoutMs !== undefined) this.deadlineTimer = setTimeout(deadlinePassed, timeoutMs, this);
    f.downstreamGone.listen(this.onGone);
    this.listeningGone = true;
    this.nextAttempt();
  }

  private nextAttempt(): void {
    const f = this.f;
    const cluster = this.cluster!;
    // Ejected endpoints are out of the set; with none left, 503 UH (Istio's panic threshold is 0).
    const outlier = cluster.outlier;
    const healthy = outlier ? outlier.healthy(this.targets) : this.targets;
    if (healthy.length === 0) {
      throw new ProxyError('no_healthy_upstream', `every endpoint of cluster ${cluster.name} is ejected`);
    }
    const target = this.replay ?? pickAvoiding(cluster.picker, healthy, this.hash, this.tried ?? NOTHING_TRIED);
    this.replay = undefined;
    this.target = target;
    f.info.upstreamHost = target.address;
    this.untrack = cluster.picker.track(target);
    this.startedMs = this.deps.now();
    const upstream = this.upstream!;
    const attempt = startAttempt(
      {
        target,
        method: f.view.method,
        path: upstream.path,
        headers: upstream.headers,
        pool: this.pool!,
        localAddress: localAddressFor(this.deps.nodeIp, target.family),
        connectTimeoutMs: cluster.connectTimeoutMs,
        perTryTimeoutMs: f.action.retry?.perTryTimeoutMs,
        body: f.req,
        onBodyChunk: this.onBodyChunk,
        onBodyEnd: this.onBodyEnd,
        tls: this.tls,
      },
      this,
    );
    this.attempt = attempt;
    if (this.stopped) attempt.abort(this.stopped);
  }

  attemptFailed(attempt: Attempt, err: ProxyError): void {
    if (attempt !== this.attempt || this.finished) return;
    this.guard(() => this.failedAttempt(attempt, err));
  }

  private failedAttempt(attempt: Attempt, pe: ProxyError): void {
    const f = this.f;
    const cluster = this.cluster!;
    const target = this.target!;
    this.untrack();
    this.untrack = noop;
    const outcome = cluster.outlier && outcomeOf(pe);
    if (outcome) cluster.outlier!.report(target, outcome);
    f.info.upstreamLocalAddress = attempt.localAddress();
    if (this.stopped) throw this.stopped;
    (this.tried ??= new Set()).add(target.key);
    if (!this.replayed && isStaleConnection(pe, attempt, f)) {
      // RFC 9110 §9.2.2: an idempotent request whose reused connection closed before any response may be sent
      // again. The peer closed (or died) while the connection sat in the pool; the request never reached it.
      // Its idle siblings are closed too, so the replay opens a new connection to the same host.
      this.replayed = true;
      this.replay = target;
      this.pool!.dropIdle(target.ip, target.port);
      this.nextAttempt();
      return;
    }
    const policy = f.action.retry;
    if (policy !== undefined && !pe.bodySent && errorIsRetriable(pe, policy) && this.retry(policy)) return;
    throw pe;
  }

  attemptResponded(attempt: Attempt, response: UpstreamResponse): void {
    if (attempt !== this.attempt || this.finished) {
      response.destroy();
      return;
    }
    // Inline rather than through guard(): this runs for every request, and a closure would be made for it.
    try {
      this.responded(attempt, response);
    } catch (err) {
      this.finish(err);
    }
  }

  private responded(attempt: Attempt, response: UpstreamResponse): void {
    const f = this.f;
    const cluster = this.cluster!;
    cluster.outlier?.report(this.target!, { kind: 'status', status: response.statusCode });
    const policy = f.action.retry;
    // A response is retriable by the policy; the request can only be sent again when none of its body went out.
    const replayable = !(f.hasBody && attempt.bodySent());
    if (policy !== undefined && responseIsRetriable(response, policy) && this.retry(policy, replayable)) {
      response.discard();
      return;
    }
    this.stopWaiting();
    const upgraded = attempt.upgraded();
    if (upgraded && f.upgrade) {
      // A tunnel ends by closing, on its own terms.
      this.stopListeningGone();
      tunnel(f, this.deps, attempt, response, upgraded, this.startedMs).then(
        () => this.finish(undefined),
        (err: unknown) => this.finish(err),
      );
      return;
    }
    this.streamResponse(response, attempt.localAddress());
  }

  /**
   * A retriable outcome: when the request can be sent again, retries are left and the cluster's retry budget has
   * room, waits before the next attempt (holding the retry slot acquired for it, Envoy's concurrent-retry budget)
   * and says true; when the retries ran out, flags URX.
   */
  private retry(policy: RetryPolicy, replayable = true): boolean {
    const cluster = this.cluster!;
    const maxRetries = policy.numRetries;
    if (replayable && this.retriesUsed < maxRetries && cluster.breaker.tryAcquireRetry()) {
      // The next attempt goes elsewhere when it can (Istio's previous_hosts retry predicate).
      (this.tried ??= new Set()).add(this.target!.key);
      this.untrack();
      this.untrack = noop;
      this.backoffTimer = setTimeout(
        backoffEnded,
        backoffMs(++this.retriesUsed, policy.backoffBaseMs, cluster.random),
        this,
      );
      return true;
    }
    if (maxRetries > 0 && this.retriesUsed >= maxRetries) this.f.info.addFlag('URX');
    return false;
  }

  /** The back-off before a retry is over (a timer's callback, with no closure made for it). */
  afterBackoff(): void {
    this.backoffTimer = undefined;
    this.cluster!.breaker.releaseRetry();
    this.guard(() => this.nextAttempt());
  }

  /** The route timeout fired, or the client went away, before the response head. */
  private stop(err: ProxyError): void {
    if (this.stopped || this.finished) return;
    this.stopped = err;
    if (this.backoffTimer !== undefined) {
      clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
      this.cluster!.breaker.releaseRetry();
      this.finish(err);
      return;
    }
    this.attempt?.abort(err);
  }

  /** The route timeout fired (a timer's callback, with no closure made for it). */
  deadlinePassed(): void {
    this.stop(new ProxyError('upstream_response_timeout'));
  }

  private stopListeningGone(): void {
    if (!this.listeningGone) return;
    this.listeningGone = false;
    this.f.downstreamGone.unlisten(this.onGone);
  }

  private readonly onGone = (): void => {
    if (this.response !== undefined) {
      this.response.destroy();
      this.finish(new ProxyError('downstream_disconnect'));
    } else this.stop(new ProxyError('downstream_disconnect'));
  };

  /** The response head is in: the route timeout no longer applies. */
  private stopWaiting(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  // --- the response ---

  private streamResponse(upstream: UpstreamResponse, localAddress: string | undefined): void {
    const f = this.f;
    const serviceTime = Math.max(0, Math.round(this.deps.now() - this.startedMs));
    const info = f.info;
    info.upstreamServiceTimeMs = serviceTime;
    info.upstreamLocalAddress = localAddress;
    info.responseHeaders = upstream.rawHeaders;
    const status = upstream.statusCode;
    const res = f.res;
    this.response = upstream;
    const clusterMutation = this.weighted!.responseHeaders;
    const routeMutation = f.route.responseHeaders;
    if (clusterMutation === undefined && routeMutation === undefined) {
      // Nothing to change: the lines go on as they came (Envoy keeps repeated headers as separate lines too).
      res.writeHead(status, rawWithoutHopByHop(upstream.rawHeaders, SERVICE_TIME, String(serviceTime)));
    } else {
      const headers = withoutHopByHop(upstream.headers);
      headers[SERVICE_TIME] = String(serviceTime);
      applyHeaderMutation(headers, clusterMutation);
      applyHeaderMutation(headers, routeMutation);
      res.writeHead(status, headers);
    }
    info.responseCode = status;
    info.details = 'via_upstream';
    if (f.downstreamGone.aborted) {
      this.onGone();
      return;
    }
    upstream.onData(this.onResponseData);
    upstream.onAborted(this.onResponseAborted);
    upstream.onEnd(this.onResponseEnd);
  }

  private readonly onResponseData = (chunk: Buffer): void => {
    this.f.info.bytesSent += chunk.length;
    if (!this.f.res.write(chunk)) this.response!.pause();
  };

  private readonly onResponseEnd = (): void => this.f.res.end();

  private readonly onResponseAborted = (): void => {
    this.finish(new ProxyError('upstream_connection_termination', 'upstream closed the connection mid-response'));
  };

  // --- the end ---

  /** Runs a step; what it throws ends the action. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.finish(err);
    }
  }

  private finishSoon(err: unknown): void {
    queueMicrotask(() => this.finish(err));
  }

  private finish(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.deadlineTimer);
    if (this.backoffTimer !== undefined) {
      clearTimeout(this.backoffTimer);
      this.cluster!.breaker.releaseRetry();
    }
    this.stopListeningGone();
    this.untrack();
    if (this.breakerHeld) this.cluster!.breaker.release();
    // A response that cannot be passed on is not read to its end: its connection closes.
    if (err !== undefined && this.response !== undefined && !this.response.complete) this.response.destroy();
    this.done(err);
  }
}

function upstreamRequestHeaders(
  f: ForwardRequest,
  weighted: WeightedCluster,
): { headers: ForwardedHeaders; path: string } {
  const headers = f.headers;
  // What configuration adds or changes goes through the headers object, where every value is checked.
  if (weighted.requestHeaders !== undefined || f.route.requestHeaders !== undefined || f.action.hostRewrite) {
    const object = headers.object();
    applyHeaderMutation(object, weighted.requestHeaders);
    applyHeaderMutation(object, f.route.requestHeaders);
    if (f.action.hostRewrite) object.host = f.action.hostRewrite;
  }
  const query = f.view.query === '' ? '' : `?${f.view.query}`;
  let path = f.view.path + query;
  if (f.action.rewritePath) {
    headers.set('x-envoy-original-path', path);
    path = f.action.rewritePath(f.view.path) + query;
  }
  return { headers, path };
}

function mirrorTap(
  f: ForwardRequest,
  deps: ForwardDeps,
  upstream: { headers: ForwardedHeaders; path: string },
): MirrorTap {
  const declared = f.req.headers['content-length'];
  const tap = startMirror(
    {
      mirror: f.route.mirror!,
      config: f.config,
      method: f.view.method,
      path: upstream.path,
      headers: upstream.headers.object(),
      original: f.original,
      hasBody: f.hasBody,
      contentLength: declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined,
    },
    deps,
  );
  return tap;
}

/** Envoy's outlier-detection results: a status, or a local-origin error mapped to 503/504. */
function outcomeOf(err: ProxyError): AttemptOutcome | undefined {
  switch (err.code) {
    case 'upstream_connection_failure':
    case 'upstream_connect_timeout':
    case 'upstream_connection_termination':
      return { kind: 'connect-failure' };
    case 'upstream_per_try_timeout':
    case 'upstream_response_timeout':
      return { kind: 'timeout' };
    default:
      return undefined;
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * A pooled connection that turned out closed: the attempt failed on a reused connection before any of the response
 * (and any of a body) — the race between a keep-alive connection's reuse and its peer's close or death.
 */
function isStaleConnection(err: ProxyError, attempt: Attempt, f: ForwardRequest): boolean {
  return (
    err.code === 'upstream_connection_termination' &&
    attempt.reusedConnection() &&
    !err.bodySent &&
    !f.hasBody &&
    IDEMPOTENT.has(f.view.method)
  );
}

const TUNNEL_CLOSE_GRACE_MS = 1_000;

/**
 * After a 101 (Envoy's upgrade_configs, which Istio enables for websocket): the 101 goes to the client as the
 * upstream sent it, then bytes flow both ways until either side closes. One access-log line, when both are closed.
 */
function tunnel(
  f: ForwardRequest,
  deps: ForwardDeps,
  attempt: Attempt,
  upstream: UpstreamResponse,
  upgraded: { socket: Socket; head: Buffer },
  startedMs: number,
): Promise<void> {
  const client = f.upgrade!;
  const up = upgraded.socket;
  f.info.upstreamServiceTimeMs = Math.max(0, Math.round(deps.now() - startedMs));
  f.info.upstreamLocalAddress = attempt.localAddress();
  f.info.responseCode = 101;
  f.info.details = 'via_upstream';
  f.info.upgraded = true;
  let head = `HTTP/1.1 101 ${upstream.statusMessage || 'Switching Protocols'}\r\n`;
  for (let i = 0; i + 1 < upstream.rawHeaders.length; i += 2)
    head += `${upstream.rawHeaders[i]}: ${upstream.rawHeaders[i + 1]}\r\n`;
  client.socket.write(`${head}\r\n`);
  if (upgraded.head.length > 0) {
    f.info.bytesSent += upgraded.head.length;
    client.socket.write(upgraded.head);
  }
  if (client.head.length > 0) {
    f.info.bytesReceived += client.head.length;
    up.write(client.head);
  }
  return new Promise<void>((resolve) => {
    let open = 2;
    let grace: NodeJS.Timeout | undefined;
    const closed = (): void => {
      if (--open > 0) return;
      clearTimeout(grace);
      resolve();
    };
    // A FIN from either side is passed on; a side that then keeps its half open is cut after a grace period,
    // so no tunnel lingers half-closed (Envoy's delayed close does the same).
    const halfClosed = (): void => {
      grace ??= setTimeout(() => {
        up.destroy();
        destroyAfterHeld(client.socket);
      }, TUNNEL_CLOSE_GRACE_MS);
    };
    up.on('data', (chunk: Buffer) => (f.info.bytesSent += chunk.length));
    client.socket.on('data', (chunk: Buffer) => (f.info.bytesReceived += chunk.length));
    // The 101 may still be held for the end of the turn: it goes first.
    up.on('error', () => destroyAfterHeld(client.socket));
    client.socket.on('error', () => up.destroy());
    up.once('end', halfClosed);
    client.socket.once('end', halfClosed);
    up.once('close', () => {
      client.socket.end();
      closed();
    });
    client.socket.once('close', () => {
      up.end();
      closed();
    });
    up.pipe(client.socket);
    client.socket.pipe(up);
  });
}

function noop(): void {}
