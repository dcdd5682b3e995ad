// The cluster action: choose a cluster and endpoint, make attempts (with retries, route and per-try timeouts),
// then stream the response back. Failures are thrown as ProxyErrors for rescue.ts to answer.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { WeightedCluster } from '../proxy-config/types.js';
import { resolveTargets, type EndpointDeps, type OriginalDestination } from './cluster-endpoints.js';
import type { Target } from './cluster-lb.js';
import type { CompiledCluster } from './compile-clusters.js';
import type { CompiledConfig } from './compile-config.js';
import type { CompiledClusterAction, CompiledRoute } from './compile-routes.js';
import { guardTargets, type GuardDeps } from './destination-guard.js';
import type { DownstreamGone } from './downstream-gone.js';
import { ProxyError } from './errors.js';
import { applyHeaderMutation, withoutHopByHop } from './headers.js';
import type { DownstreamRequest, DownstreamResponse, UpstreamResponse } from './http1/types.js';
import type { RequestView } from './request-view.js';
import { backoffMs, errorIsRetriable, pickAvoiding, responseIsRetriable } from './retry.js';
import type { StreamInfo } from './stream-info.js';
import { attemptTlsFor, startAttempt, type Attempt } from './upstream.js';
import { localAddressFor } from './local-address.js';
import { startMirror, type MirrorCounters, type MirrorTap } from './mirror.js';
import type { AttemptOutcome } from './outlier.js';
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
   * Request headers already cleaned and decorated by the connection manager: a copy made for this request, which
   * the route's and cluster's mutations then change in place.
   */
  readonly headers: OutgoingHttpHeaders;
  readonly hasBody: boolean;
  /** Fires when the client goes away before the response completed. */
  readonly downstreamGone: DownstreamGone;
  /** An upgrade request (WebSocket and the like): the client's raw connection and bytes read past its headers. */
  readonly upgrade?: { readonly socket: Socket; readonly head: Buffer };
}

/** Resolves when the response has been fully sent; rejects with a ProxyError otherwise. */
export async function forward(f: ForwardRequest, deps: ForwardDeps): Promise<void> {
  const weighted = f.action.pickCluster();
  const cluster = f.config.clusters.get(weighted.cluster);
  if (!cluster) throw new ProxyError('cluster_not_found', `cluster ${weighted.cluster} is not configured`);
  f.info.upstreamCluster = cluster.name;
  if (!cluster.breaker.tryAcquire()) throw new ProxyError('upstream_overflow', `cluster ${cluster.name} is full`);
  try {
    // Targets worked out once for this config are used as they are, without a promise to wait on.
    const resolved = cluster.memo.targets ?? (await resolveTargets(cluster, f.original, deps));
    if (resolved.length === 0) throw new ProxyError('no_healthy_upstream', `cluster ${cluster.name} has no endpoints`);
    const targets = guardTargets(resolved, deps, f.original, f.info);
    const upstream = upstreamRequestHeaders(f, weighted);
    const tap = f.route.mirror ? mirrorTap(f, deps, upstream) : undefined;
    const { attempt, response, startedMs, untrack } = await attemptWithRetries(
      f,
      deps,
      cluster,
      upstream,
      targets,
      tap,
    );
    try {
      const upgraded = attempt.upgraded();
      if (upgraded && f.upgrade) await tunnel(f, deps, attempt, response, upgraded, startedMs);
      else await streamResponse(f, deps, weighted, response, startedMs, attempt.localAddress());
    } finally {
      untrack();
    }
  } finally {
    cluster.breaker.release();
  }
}

function upstreamRequestHeaders(
  f: ForwardRequest,
  weighted: WeightedCluster,
): { headers: OutgoingHttpHeaders; path: string } {
  const headers = f.headers;
  applyHeaderMutation(headers, weighted.requestHeaders);
  applyHeaderMutation(headers, f.route.requestHeaders);
  if (f.action.hostRewrite) headers.host = f.action.hostRewrite;
  const query = f.view.query === '' ? '' : `?${f.view.query}`;
  let path = f.view.path + query;
  if (f.action.rewritePath) {
    headers['x-envoy-original-path'] = path;
    path = f.action.rewritePath(f.view.path) + query;
  }
  return { headers, path };
}

function mirrorTap(
  f: ForwardRequest,
  deps: ForwardDeps,
  upstream: { headers: OutgoingHttpHeaders; path: string },
): MirrorTap {
  const declared = f.req.headers['content-length'];
  const tap = startMirror(
    {
      mirror: f.route.mirror!,
      config: f.config,
      method: f.view.method,
      path: upstream.path,
      headers: upstream.headers,
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

async function attemptWithRetries(
  f: ForwardRequest,
  deps: ForwardDeps,
  cluster: CompiledCluster,
  upstream: { headers: OutgoingHttpHeaders; path: string },
  targets: readonly Target[],
  tap: MirrorTap | undefined,
): Promise<{ attempt: Attempt; response: UpstreamResponse; startedMs: number; untrack: () => void }> {
  const { headers, path } = upstream;
  const outlier = cluster.outlier;
  const hash = cluster.hashKey?.(f.view, f.req.socket.remoteAddress);
  const onBodyChunk = tap
    ? (chunk: Buffer): void => {
        f.info.bytesReceived += chunk.length;
        tap.feed(chunk);
      }
    : (chunk: Buffer): void => {
        f.info.bytesReceived += chunk.length;
      };
  const onBodyEnd = tap ? (): void => tap.end() : noop;
  const policy = f.action.retry;
  const maxRetries = policy?.numRetries ?? 0;
  const pool = deps.pools.get(cluster);
  const hostHeader = headers.host;
  const tls = attemptTlsFor(cluster, typeof hostHeader === 'string' ? hostHeader : undefined);
  let retriesUsed = 0;
  /** Set for the one replay of a request whose pooled connection turned out closed: the same host, anew. */
  let replay: Target | undefined;
  let replayed = false;
  /** Hosts already attempted: a retry goes elsewhere when it can (Istio's previous_hosts retry predicate). */
  const tried = new Set<string>();

  // The route timeout spans every attempt and back-off, up to the response headers; a client that goes away ends
  // the wait too. Either interrupts whatever is waiting at the time: the attempt in flight or the back-off.
  let stopped: ProxyError | undefined;
  let interrupt: ((err: ProxyError) => void) | undefined;
  const stop = (err: ProxyError): void => {
    if (stopped) return;
    stopped = err;
    interrupt?.(err);
  };
  const timeoutMs = f.action.timeoutMs;
  const deadlineTimer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => stop(new ProxyError('upstream_response_timeout')), timeoutMs);
  const unlisten = f.downstreamGone.onGone(() => stop(new ProxyError('downstream_disconnect')));
  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (stopped) return reject(stopped);
      const timer = setTimeout(resolve, ms);
      interrupt = (err) => {
        clearTimeout(timer);
        reject(err);
      };
    });

  try {
    for (;;) {
      // Ejected endpoints are out of the set; with none left, 503 UH (Istio's panic threshold is 0).
      const healthy = outlier ? outlier.healthy(targets) : targets;
      if (healthy.length === 0) {
        throw new ProxyError('no_healthy_upstream', `every endpoint of cluster ${cluster.name} is ejected`);
      }
      const target = replay ?? pickAvoiding(cluster.picker, healthy, hash, tried);
      replay = undefined;
      tried.add(target.key);
      f.info.upstreamHost = target.address;
      const untrack = cluster.picker.track(target);
      const startedMs = deps.now();
      const attempt = startAttempt({
        target,
        method: f.view.method,
        path,
        headers,
        pool,
        localAddress: localAddressFor(deps.nodeIp, target.ip),
        connectTimeoutMs: cluster.connectTimeoutMs,
        perTryTimeoutMs: policy?.perTryTimeoutMs,
        body: f.req,
        onBodyChunk,
        onBodyEnd,
        tls,
      });
      let response: UpstreamResponse;
      if (stopped) attempt.abort(stopped);
      else interrupt = (err) => attempt.abort(err);
      try {
        response = await attempt.response;
      } catch (err) {
        untrack();
        const pe = err instanceof ProxyError ? err : new ProxyError('internal_error', String(err), { cause: err });
        attempt.abort(pe);
        const outcome = outlier && outcomeOf(pe);
        if (outcome) outlier.report(target, outcome);
        f.info.upstreamLocalAddress = attempt.localAddress();
        if (stopped) throw stopped;
        if (!replayed && isStaleConnection(pe, attempt, f)) {
          // RFC 9110 §9.2.2: an idempotent request whose reused connection closed before any response may be sent
          // again. The peer closed (or died) while the connection sat in the pool; the request never reached it.
          // Its idle siblings are closed too, so the replay opens a new connection to the same host.
          replayed = true;
          replay = target;
          pool.dropIdle(target.ip, target.port);
          continue;
        }
        const retriable = policy !== undefined && !pe.bodySent && errorIsRetriable(pe, policy);
        if (retriable && retriesUsed < maxRetries && cluster.breaker.tryAcquireRetry()) {
          await backoff(cluster, ++retriesUsed, policy, sleep);
          continue;
        }
        if (retriable && maxRetries > 0 && retriesUsed >= maxRetries) f.info.flags.add('URX');
        throw pe;
      }
      outlier?.report(target, { kind: 'status', status: response.statusCode });
      const retriable = policy !== undefined && responseIsRetriable(response, policy);
      const replayable = !(f.hasBody && attempt.bodySent());
      if (retriable && replayable && retriesUsed < maxRetries && cluster.breaker.tryAcquireRetry()) {
        response.discard();
        untrack();
        await backoff(cluster, ++retriesUsed, policy, sleep);
        continue;
      }
      if (retriable && maxRetries > 0 && retriesUsed >= maxRetries) {
        f.info.flags.add('URX');
      }
      return { attempt, response, startedMs, untrack };
    }
  } finally {
    clearTimeout(deadlineTimer);
    unlisten();
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

/** Waits before retry n, holding the retry slot the caller acquired (Envoy's concurrent-retry budget). */
async function backoff(
  cluster: CompiledCluster,
  n: number,
  policy: NonNullable<CompiledClusterAction['retry']>,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  try {
    await sleep(backoffMs(n, policy.backoffBaseMs, cluster.random));
  } finally {
    cluster.breaker.releaseRetry();
  }
}

function streamResponse(
  f: ForwardRequest,
  deps: ForwardDeps,
  weighted: WeightedCluster,
  upstream: UpstreamResponse,
  startedMs: number,
  localAddress: string | undefined,
): Promise<void> {
  const serviceTime = Math.max(0, Math.round(deps.now() - startedMs));
  const info = f.info;
  info.upstreamServiceTimeMs = serviceTime;
  info.upstreamLocalAddress = localAddress;
  const headers = withoutHopByHop(upstream.headers);
  headers['x-envoy-upstream-service-time'] = String(serviceTime);
  applyHeaderMutation(headers, weighted.responseHeaders);
  applyHeaderMutation(headers, f.route.responseHeaders);
  const status = upstream.statusCode;
  const res = f.res;
  res.writeHead(status, headers);
  info.responseCode = status;
  info.details = 'via_upstream';

  return new Promise<void>((resolve, reject) => {
    const gone = (): void => {
      upstream.destroy();
      reject(new ProxyError('downstream_disconnect'));
    };
    if (f.downstreamGone.aborted) return gone();
    const unlisten = f.downstreamGone.onGone(gone);
    const resume = (): void => upstream.resume();
    upstream.onData((chunk) => {
      info.bytesSent += chunk.length;
      if (!res.write(chunk)) {
        upstream.pause();
        res.once('drain', resume);
      }
    });
    upstream.onAborted(() => {
      unlisten();
      reject(new ProxyError('upstream_connection_termination', 'upstream closed the connection mid-response'));
    });
    upstream.onEnd(() => res.end());
    res.once('finish', () => {
      unlisten();
      resolve();
    });
  });
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
        client.socket.destroy();
      }, TUNNEL_CLOSE_GRACE_MS);
    };
    up.on('data', (chunk: Buffer) => (f.info.bytesSent += chunk.length));
    client.socket.on('data', (chunk: Buffer) => (f.info.bytesReceived += chunk.length));
    up.on('error', () => client.socket.destroy());
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
