// The HTTP connection manager for one request: headers Envoy adds, route selection, fault injection, the route
// action, and the single rescue of whatever went wrong. The stream completes (access log, later metrics) once
// the response is over and the handler has settled.
import type { Socket } from 'node:net';
import type { CompiledConfig, CompiledListener } from './compile-config.js';
import type { CompiledRoute } from './compile-routes.js';
import { DownstreamGone } from './downstream-gone.js';
import { ProxyError } from './errors.js';
import { forward, type ForwardDeps, type ForwardRun } from './forward.js';
import { ForwardedHeaders } from './headers.js';
import type { DownstreamRequest, DownstreamResponse, ResponseObserver } from './http1/types.js';
import { sendLocalReply } from './local-reply.js';
import { redirectLocation } from './redirect-location.js';
import { checkRequest, checkUpgrade } from './request-hygiene.js';
import { parseRequestTarget } from './request-target.js';
import type { RequestView } from './request-view.js';
import { prepareRequestId, takeRequestId } from './request-id.js';
import { rescue } from './rescue.js';
import { selectRoute } from './router.js';
import { addressesOf, StreamInfo } from './stream-info.js';

export interface PlaneContext extends ForwardDeps {
  /** The one place a stream completes: the access log now, metrics later. */
  completeStream(info: StreamInfo, config: CompiledConfig): void;
  /**
   * A request has been sent on its way (forwarded, answered, or waiting for a connection): what completed streams
   * left to do (their access-log lines) is done now, while this request waits for its upstream.
   */
  requestSent(): void;
}

/** The listeners requests are routed on: the sidecar's, and a gateway's HTTP route config. */
export type HttpListener = Exclude<CompiledListener, { kind: 'gateway-network' }>;

/** What the connection a request came on adds to it. */
export interface RequestScope {
  /** A CONNECT tunnel's authority: the destination port and the original destination, whatever the Host says. */
  readonly tunnel?: { readonly host: string; readonly port: number };
  /** The gateway terminated TLS for this connection. */
  readonly secure?: boolean;
  /** The SNI the client's TLS handshake asked for. */
  readonly serverName?: string;
}

export function handleRequest(
  ctx: PlaneContext,
  config: CompiledConfig,
  listener: HttpListener,
  req: DownstreamRequest,
  res: DownstreamResponse,
  upgrade?: { readonly socket: Socket; readonly head: Buffer },
  scope: RequestScope = {},
): void {
  new HttpStream(ctx, config, listener, req, res, upgrade, scope).start();
}

/**
 * One request through the connection manager. It observes its response directly (no listener per request), and
 * its steps are methods: a request answered by one attempt makes no promise.
 */
class HttpStream implements ResponseObserver {
  private readonly info: StreamInfo;
  private readonly downstreamGone = new DownstreamGone();
  private route: CompiledRoute | undefined;
  /** The cluster action under way, which hears the response's finish and drain. */
  private forwarding: ForwardRun | undefined;
  private resetByProxy = false;
  /** The handler is done with the request (answered, forwarded or failed). */
  private handled = false;
  /** The response is over: finished, or the connection closed under it. */
  private closed = false;
  private remoteIp: string | undefined;
  /** A WebSocket upgrade, to be tunnelled after a 101. */
  private tunnelUpgrade: { readonly socket: Socket; readonly head: Buffer } | undefined;

  constructor(
    private readonly ctx: PlaneContext,
    private readonly config: CompiledConfig,
    private readonly listener: HttpListener,
    private readonly req: DownstreamRequest,
    private readonly res: DownstreamResponse,
    private readonly upgrade: { readonly socket: Socket; readonly head: Buffer } | undefined,
    private readonly scope: RequestScope,
  ) {
    const info = new StreamInfo(ctx.now());
    info.method = req.method;
    info.protocol = req.httpVersionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    const addresses = addressesOf(req.socket);
    info.downstreamLocalAddress = addresses.local;
    info.downstreamRemoteAddress = addresses.remote;
    this.remoteIp = addresses.remoteIp;
    info.userAgent = req.headers['user-agent'];
    info.requestHeaders = req.rawHeaders;
    info.requestedServerName = scope.serverName;
    this.info = info;
  }

  start(): void {
    this.res.observer = this;
    try {
      this.decode();
    } catch (err) {
      this.fail(err);
    }
    this.ctx.requestSent();
    prepareRequestId();
  }

  // --- the response's moments (ResponseObserver) ---

  responseFinished(): void {
    this.forwarding?.responseFinished();
  }

  responseDrained(): void {
    this.forwarding?.responseDrained();
  }

  /** The stream completes once the response is over (closed) and the handler is done, in whichever order. */
  responseClosed(): void {
    if (!this.res.writableFinished) this.downstreamGone.fire();
    this.closed = true;
    if (this.handled) this.complete();
  }

  // --- the request ---

  /** What the request asks for, its route and the route's fault injection. */
  private decode(): void {
    const { req, info, config, listener } = this;
    const target = parseRequestTarget(req);
    info.path = target.pathAndQuery;
    info.authority = target.authority;
    info.requestId = firstValue(req.headers['x-request-id']) ?? takeRequestId();
    const remoteIp = this.remoteIp;
    const priorXff = firstValue(req.headers['x-forwarded-for']);
    // Gateways use the remote address (Istio sets use_remote_address there) and append it; sidecars pass XFF on.
    info.xForwardedFor =
      listener.kind === 'gateway-http' && remoteIp ? (priorXff ? `${priorXff}, ${remoteIp}` : remoteIp) : priorXff;
    const checked = checkRequest(req, target);
    if (checked === undefined || target.authority === undefined) throw new ProxyError('missing_host_header');
    const path = config.normalizePath(target.path);
    if (path === undefined) throw new ProxyError('invalid_path', `${JSON.stringify(target.path)} cannot be normalized`);
    if (path !== target.path) info.path = target.query === '' ? path : `${path}?${target.query}`;
    // Only WebSocket is tunnelled; h2c is served as plain HTTP/1.1; any other upgrade is refused.
    const upgrade = this.upgrade;
    this.tunnelUpgrade = upgrade !== undefined && checkUpgrade(req) === 'websocket' ? upgrade : undefined;

    const { host, port } = checked;
    const view: RequestView = {
      method: req.method,
      path,
      query: target.query,
      authority: target.authority,
      host,
      scheme: this.scope.secure ? 'https' : 'http',
      headers: req.headers,
    };
    const destinationPort =
      listener.kind === 'sidecar-outbound' ? (this.scope.tunnel?.port ?? port ?? 80) : listener.servicePort;
    const route = selectRoute(config, listener, view, destinationPort);
    if (!route) throw new ProxyError('route_not_found', `no route for ${host} on ${listener.name}`);
    this.route = route;
    info.routeName = route.name;

    const fault = route.fault;
    if (fault?.delay?.fires()) {
      info.addFlag('DI');
      const gone = (): void => {
        clearTimeout(timer);
        this.fail(new ProxyError('downstream_disconnect'));
      };
      const timer = setTimeout(() => {
        this.downstreamGone.unlisten(gone);
        this.guard(() => this.act(route, view, destinationPort));
      }, fault.delay.fixedDelayMs);
      this.downstreamGone.listen(gone);
      return;
    }
    this.act(route, view, destinationPort);
  }

  /** The route's fault abort, then its action. */
  private act(route: CompiledRoute, view: RequestView, destinationPort: number): void {
    const { req, res, info } = this;
    const fault = route.fault;
    if (fault?.abort?.fires()) {
      throw new ProxyError('fault_abort', 'fault injected', { status: fault.abort.httpStatus });
    }
    const action = route.action;
    switch (action.kind) {
      case 'direct':
        sendLocalReply(res, info, { status: action.status, body: action.body, details: 'direct_response' }, route);
        this.settled();
        return;
      case 'redirect':
        sendLocalReply(
          res,
          info,
          {
            status: action.status,
            body: '',
            details: 'direct_response',
            headers: { location: redirectLocation(action, view) },
          },
          route,
        );
        this.settled();
        return;
      case 'cluster': {
        // Every value set here is the request's own (parsed) or made here.
        const headers = new ForwardedHeaders(req.headers);
        if (view.authority !== undefined) headers.set('host', view.authority);
        if (info.requestId !== undefined) headers.set('x-request-id', info.requestId);
        if (info.xForwardedFor !== undefined) headers.set('x-forwarded-for', info.xForwardedFor);
        if (this.listener.kind === 'gateway-http' || headers.get('x-forwarded-proto') === undefined) {
          headers.set('x-forwarded-proto', view.scheme);
        }
        const tunnelUpgrade = this.tunnelUpgrade;
        // An upgrade (WebSocket) keeps the two hop-by-hop headers that ask for it, for the next hop.
        if (tunnelUpgrade && req.headers.upgrade !== undefined) {
          headers.set('connection', 'Upgrade');
          headers.set('upgrade', req.headers.upgrade);
        }
        this.forwarding = forward(
          {
            req,
            res,
            info,
            view,
            route,
            action,
            config: this.config,
            original: { host: this.scope.tunnel?.host ?? view.host, port: destinationPort },
            headers,
            hasBody: req.hasBody,
            downstreamGone: this.downstreamGone,
            upgrade: tunnelUpgrade,
          },
          this.ctx,
          this.forwarded,
        );
        return;
      }
    }
  }

  private readonly forwarded = (err?: unknown): void => {
    if (err === undefined) this.settled();
    else this.fail(err);
  };

  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.fail(err);
    }
  }

  /** The single rescue of whatever went wrong: a local reply, or a reset once the response has started. */
  private fail(err: unknown): void {
    if (this.handled) return;
    const { res, info, listener } = this;
    try {
      if (err instanceof ProxyError && err.transportFailureReason !== undefined) {
        info.transportFailureReason = err.transportFailureReason;
      }
      const r = rescue(err, res.headersSent || res.destroyed);
      if (r.unexpected !== undefined) this.ctx.warn(`unexpected error on ${listener.name}: ${describe(r.unexpected)}`);
      for (const f of r.flags) info.addFlag(f);
      info.details = r.details;
      if (r.reset) {
        if (!res.destroyed) {
          this.resetByProxy = true;
          res.destroy();
        }
      } else {
        // A request the proxy refuses for what the client sent (426, 431, 400, 403 upgrade): the connection closes
        // after the answer, as Envoy closes it after a protocol error; what follows on it cannot be trusted either.
        if (err instanceof ProxyError && err.spec.source === 'downstream') res.shouldKeepAlive = false;
        sendLocalReply(res, info, { status: r.status, body: r.body, details: r.details }, this.route);
      }
    } catch (failure) {
      this.ctx.warn(`failed to answer a request on ${listener.name}: ${describe(failure)}`);
      res.destroy();
    }
    this.settled();
  }

  private settled(): void {
    if (this.handled) return;
    this.handled = true;
    if (this.closed) this.complete();
  }

  private complete(): void {
    const { res, info } = this;
    if (!res.writableFinished && !this.resetByProxy && !info.upgraded && !info.hasFlag('DC')) {
      info.addFlag('DC');
      info.details ??= 'downstream_remote_disconnect';
    }
    this.ctx.completeStream(info, this.config);
  }
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
