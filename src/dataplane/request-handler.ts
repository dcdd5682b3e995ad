// The HTTP connection manager for one request: headers Envoy adds, route selection, fault injection, the route
// action, and the single rescue of whatever went wrong. The stream completes (access log, later metrics) once
// the response is over and the handler has settled.
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { CompiledConfig, CompiledListener } from './compile-config.js';
import type { CompiledRoute } from './compile-routes.js';
import { DownstreamGone } from './downstream-gone.js';
import { ProxyError } from './errors.js';
import { forward, type ForwardDeps } from './forward.js';
import { withoutHopByHop } from './headers.js';
import type { DownstreamRequest, DownstreamResponse } from './http1/types.js';
import { sendLocalReply } from './local-reply.js';
import { redirectLocation } from './redirect-location.js';
import { checkRequest, checkUpgrade } from './request-hygiene.js';
import { parseRequestTarget } from './request-target.js';
import { splitAuthority, type RequestView } from './request-view.js';
import { rescue } from './rescue.js';
import { selectRoute } from './router.js';
import { addressesOf, StreamInfo } from './stream-info.js';

export interface PlaneContext extends ForwardDeps {
  /** The one place a stream completes: the access log now, metrics later. */
  completeStream(info: StreamInfo, config: CompiledConfig): void;
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
  const info = new StreamInfo(ctx.now());
  info.method = req.method;
  info.protocol = req.httpVersionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
  const addresses = addressesOf(req.socket);
  info.downstreamLocalAddress = addresses.local;
  info.downstreamRemoteAddress = addresses.remote;
  info.userAgent = req.headers['user-agent'];
  info.requestedServerName = scope.serverName;

  const downstreamGone = new DownstreamGone();
  let resetByProxy = false;
  let handled = false;
  let isClosed = false;
  const complete = (): void => {
    if (!res.writableFinished && !resetByProxy && !info.upgraded && !info.flags.has('DC')) {
      info.flags.add('DC');
      info.details ??= 'downstream_remote_disconnect';
    }
    ctx.completeStream(info, config);
  };
  // The stream completes once the response is over (closed) and the handler has settled, in whichever order.
  res.once('close', () => {
    if (!res.writableFinished) downstreamGone.fire();
    isClosed = true;
    if (handled) complete();
  });
  let route: CompiledRoute | undefined;

  const run = async (): Promise<void> => {
    const target = parseRequestTarget(req);
    info.path = target.pathAndQuery;
    info.authority = target.authority;
    const requestId = firstValue(req.headers['x-request-id']) ?? randomUUID();
    info.requestId = requestId;
    const remoteIp = addresses.remoteIp;
    const priorXff = firstValue(req.headers['x-forwarded-for']);
    // Gateways use the remote address (Istio sets use_remote_address there) and append it; sidecars pass XFF on.
    info.xForwardedFor =
      listener.kind === 'gateway-http' && remoteIp ? (priorXff ? `${priorXff}, ${remoteIp}` : remoteIp) : priorXff;
    checkRequest(req, target);
    if (target.authority === undefined) throw new ProxyError('missing_host_header');
    const path = config.normalizePath(target.path);
    if (path === undefined) throw new ProxyError('invalid_path', `${JSON.stringify(target.path)} cannot be normalized`);
    if (path !== target.path) info.path = target.query === '' ? path : `${path}?${target.query}`;
    // Only WebSocket is tunnelled; h2c is served as plain HTTP/1.1; any other upgrade is refused.
    const tunnelUpgrade = upgrade !== undefined && checkUpgrade(req) === 'websocket' ? upgrade : undefined;

    const { host, port } = splitAuthority(target.authority);
    const scheme = scope.secure ? 'https' : 'http';
    const view: RequestView = {
      method: req.method,
      path,
      query: target.query,
      authority: target.authority,
      host,
      scheme,
      headers: req.headers,
    };
    const tunnel = scope.tunnel;
    const destinationPort = listener.kind === 'sidecar-outbound' ? (tunnel?.port ?? port ?? 80) : listener.servicePort;
    route = selectRoute(config, listener, view, destinationPort);
    if (!route) throw new ProxyError('route_not_found', `no route for ${host} on ${listener.name}`);
    info.routeName = route.name;

    const fault = route.fault;
    if (fault?.delay?.fires()) {
      info.flags.add('DI');
      await sleepUnlessGone(fault.delay.fixedDelayMs, downstreamGone);
    }
    if (fault?.abort?.fires()) {
      throw new ProxyError('fault_abort', 'fault injected', { status: fault.abort.httpStatus });
    }

    const action = route.action;
    switch (action.kind) {
      case 'direct':
        sendLocalReply(res, info, { status: action.status, body: action.body, details: 'direct_response' }, route);
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
        return;
      case 'cluster': {
        const headers: OutgoingHttpHeaders = withoutHopByHop(req.headers);
        headers.host = target.authority;
        headers['x-request-id'] = requestId;
        if (info.xForwardedFor !== undefined) headers['x-forwarded-for'] = info.xForwardedFor;
        if (listener.kind === 'gateway-http' || headers['x-forwarded-proto'] === undefined) {
          headers['x-forwarded-proto'] = scheme;
        }
        // An upgrade (WebSocket) keeps the two hop-by-hop headers that ask for it, for the next hop.
        if (tunnelUpgrade && req.headers.upgrade !== undefined) {
          headers.connection = 'Upgrade';
          headers.upgrade = req.headers.upgrade;
        }
        await forward(
          {
            req,
            res,
            info,
            view,
            route,
            action,
            config,
            original: { host: tunnel?.host ?? host, port: destinationPort },
            headers,
            hasBody: req.hasBody,
            downstreamGone,
            ...(tunnelUpgrade ? { upgrade: tunnelUpgrade } : {}),
          },
          ctx,
        );
        return;
      }
    }
  };

  const onError = (err: unknown): void => {
    if (err instanceof ProxyError && err.transportFailureReason !== undefined) {
      info.transportFailureReason = err.transportFailureReason;
    }
    const r = rescue(err, res.headersSent || res.destroyed);
    if (r.unexpected !== undefined) ctx.warn(`unexpected error on ${listener.name}: ${describe(r.unexpected)}`);
    for (const f of r.flags) info.flags.add(f);
    info.details = r.details;
    if (r.reset) {
      if (!res.destroyed) {
        resetByProxy = true;
        res.destroy();
      }
      return;
    }
    // A request the proxy refuses for what the client sent (426, 431, 400, 403 upgrade): the connection closes
    // after the answer, as Envoy closes it after a protocol error; what follows on it cannot be trusted either.
    if (err instanceof ProxyError && err.spec.source === 'downstream') res.shouldKeepAlive = false;
    sendLocalReply(res, info, { status: r.status, body: r.body, details: r.details }, route);
  };

  const settled = (): void => {
    handled = true;
    if (isClosed) complete();
  };
  run().then(settled, (err: unknown) => {
    try {
      onError(err);
    } catch (failure) {
      ctx.warn(`failed to answer a request on ${listener.name}: ${describe(failure)}`);
      res.destroy();
    }
    settled();
  });
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function sleepUnlessGone(ms: number, gone: DownstreamGone): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    const unlisten = gone.onGone(() => {
      clearTimeout(timer);
      reject(new ProxyError('downstream_disconnect'));
    });
    function done(): void {
      unlisten();
      resolve();
    }
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
