// A bound listener: one socket whose lifetime spans config pushes while the listener's name, address and port stay
// the same. Connections are dispatched by the listener's kind in the config in force when they arrive: to the HTTP
// connection manager (sidecar and plain gateway ports), or by filter chain (gateway TLS/TCP ports). Every accepted
// socket has an error listener from its first moment, so no fault on one connection can reach the process.
import net, { type AddressInfo, type Socket } from 'node:net';
import type { CompiledConfig, CompiledListener } from './compile-config.js';
import { handleClientError, refuseConnect } from './connection-events.js';
import { type Http1Connection, type ServerHandlers, type ServerLimits, serveHttp1 } from './http1/server.js';
import type { DownstreamRequest, DownstreamResponse } from './http1/types.js';
import { destroyAfterHeld } from './http1/write-turn.js';
import { sendLocalReply } from './local-reply.js';
import { handleSidecarConnect } from './network/connect.js';
import { handleGatewayConnection } from './network/gateway-connection.js';
import { handleRequest, type HttpListener, type PlaneContext, type RequestScope } from './request-handler.js';
import { StreamInfo } from './stream-info.js';

export interface ListenerHost {
  readonly ctx: PlaneContext;
  currentConfig(): CompiledConfig | undefined;
  /** How long a request's headers may take to arrive (408 after); 60 s by default. */
  readonly requestHeadersTimeoutMs?: number;
}

/** Envoy's limits on request headers, which Istio keeps: 60 KiB in all (431 beyond). */
export const MAX_REQUEST_HEADERS_BYTES = 60 * 1024;
/** Envoy's HTTP connection idle timeout (1 h): a pooled keep-alive connection is not closed under a client. */
export const HTTP_IDLE_TIMEOUT_MS = 60 * 60 * 1000;
/** How long a request's headers may take to arrive unless the host says otherwise. */
const HEADERS_TIMEOUT_MS = 60_000;

const ignore = (): void => {};
const NO_SCOPE: RequestScope = Object.freeze({});

/** A chain that terminated TLS and routes HTTP: what its requests are routed with. */
interface ChainScope {
  readonly routeConfigName: string;
  readonly servicePort: number;
  readonly secure: boolean;
  readonly serverName: string | undefined;
}

export class ListenerHandle {
  /** Mutable only when a push renames a listener that keeps its address and port. */
  name: string;
  readonly address: string;
  readonly requestedPort: number;
  /** Set when a push removed this listener: requests still arriving on open connections use it. */
  retired: CompiledConfig | undefined;
  /**
   * The config this listener was bound for, until the push that opened it is swapped in. Under node:cluster a
   * worker's listener is handed connections as soon as it is bound, which can be before the swap: they are served
   * with this config rather than refused.
   */
  opening: CompiledConfig | undefined;
  private readonly server: net.Server;
  private readonly host: ListenerHost;
  private readonly limits: ServerLimits;
  private readonly handlers: ServerHandlers;
  /** Every accepted connection, until it closes: what a drain ends. */
  private readonly sockets = new Set<Socket>();
  /** Connections handed to the HTTP server by a CONNECT tunnel or a gateway chain, and what they route by. */
  private readonly tunnels = new WeakMap<object, { readonly host: string; readonly port: number }>();
  private readonly chains = new WeakMap<object, ChainScope>();
  /** HTTP connections, until they close or become tunnels: what a drain closes when idle. */
  private readonly httpConnections = new Map<Socket, Http1Connection>();
  /** What scopeOf answers for a connection with no tunnel or chain of its own, under the listener in force. */
  private unscoped: { readonly listener: HttpListener; readonly scope: RequestScope } | undefined;
  /** Set by drain(): every response closes its connection. */
  private draining = false;
  /** Called when the last connection closes during a drain. */
  private onEmpty: (() => void) | undefined;
  /** Ends a drain in progress without closing (revive). */
  private stopDrain: (() => void) | undefined;

  private constructor(name: string, address: string, port: number, host: ListenerHost) {
    this.name = name;
    this.address = address;
    this.requestedPort = port;
    this.host = host;
    this.limits = {
      maxHeaderBytes: MAX_REQUEST_HEADERS_BYTES,
      headersTimeoutMs: host.requestHeadersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      idleTimeoutMs: HTTP_IDLE_TIMEOUT_MS,
    };
    this.handlers = {
      request: (req, res) => this.onRequest(req, res),
      upgrade: (req, res, head) => this.onUpgrade(req, res, head),
      connect: (req, socket, head) => this.onConnect(req, socket, head),
      clientError: (kind, _detail, socket) => handleClientError(host.ctx, this.config(), kind, socket),
      fault: (err) =>
        host.ctx.warn(
          `listener ${this.name}: a request failed unexpectedly: ${err instanceof Error ? err.stack : String(err)}`,
        ),
    };
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  static async open(
    name: string,
    address: string,
    port: number,
    host: ListenerHost,
    opening: CompiledConfig,
  ): Promise<ListenerHandle> {
    const handle = new ListenerHandle(name, address, port, host);
    handle.opening = opening;
    const server = handle.server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      // Not exclusive: in a proxy run with --concurrency, every worker's listener shares one socket (node:cluster
      // accepts in the primary and hands each connection to a worker). A lone process is unaffected.
      server.listen({ host: address, port, exclusive: false }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => host.ctx.warn(`listener ${handle.name}: ${err.message}`));
    return handle;
  }

  /** Read on every request (the loop guard): kept from the bind rather than asked of the socket each time. */
  get boundPort(): number {
    if (this.port === undefined) {
      const a = this.server.address() as AddressInfo | null;
      if (!a) return this.requestedPort;
      this.port = a.port;
    }
    return this.port;
  }
  private port: number | undefined;

  /** The config this listener's connections read: its own while in force, the last one it had once retired. */
  private config(): CompiledConfig | undefined {
    if (this.retired) return this.retired;
    const current = this.host.currentConfig();
    return this.opening !== undefined && !current?.listeners.has(this.name) ? this.opening : current;
  }

  private accept(socket: Socket): void {
    socket.on('error', ignore);
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0) this.onEmpty?.();
    });
    const c = this.config();
    const listener = c?.listeners.get(this.name);
    if (!c || !listener) {
      socket.destroy();
      return;
    }
    if (listener.kind === 'gateway-network') {
      void handleGatewayConnection(this.host.ctx, c, listener, socket, (s, scope) => this.handToHttp(s, scope));
      return;
    }
    this.serve(socket);
  }

  private handToHttp(socket: Socket, scope: ChainScope): void {
    socket.on('error', ignore);
    this.chains.set(socket, scope);
    this.serve(socket);
  }

  /** HTTP/1.1 on the connection, until it closes or becomes a tunnel. */
  private serve(socket: Socket): void {
    this.httpConnections.set(socket, serveHttp1(socket, this.handlers, this.limits));
    socket.once('close', () => this.httpConnections.delete(socket));
  }

  /** The listener requests on this connection are routed as, and what scopes them. */
  private scopeOf(
    socket: object,
    listener: CompiledListener,
  ): { listener: HttpListener; scope: RequestScope } | undefined {
    const chain = this.chains.get(socket);
    if (chain) {
      return {
        listener: {
          kind: 'gateway-http',
          name: listener.name,
          address: listener.address,
          port: listener.port,
          servicePort: chain.servicePort,
          routeConfigName: chain.routeConfigName,
        },
        scope: { secure: chain.secure, ...(chain.serverName !== undefined ? { serverName: chain.serverName } : {}) },
      };
    }
    if (listener.kind === 'gateway-network') return undefined;
    const tunnel = this.tunnels.get(socket);
    if (tunnel) return { listener, scope: { tunnel } };
    // A connection with nothing of its own to add: one answer per compiled listener, not an object per request.
    if (this.unscoped?.listener !== listener) this.unscoped = { listener, scope: NO_SCOPE };
    return this.unscoped;
  }

  private onRequest(req: DownstreamRequest, res: DownstreamResponse): void {
    // Draining: the response is served and its connection closed after it (HTTP/1.1 `Connection: close`).
    if (this.draining) res.shouldKeepAlive = false;
    const c = this.config();
    const listener = c?.listeners.get(this.name);
    const scoped = listener && this.scopeOf(req.socket, listener);
    if (!c || !scoped) {
      // Unreachable while the listener is configured; answer rather than hang.
      sendLocalReply(
        res,
        new StreamInfo(this.host.ctx.now()),
        { status: 404, body: '', details: 'route_not_found' },
        undefined,
      );
      return;
    }
    handleRequest(this.host.ctx, c, scoped.listener, req, res, undefined, scoped.scope);
  }

  /**
   * Upgrade requests (WebSocket) take the same route as any request, with a response bound to their raw connection:
   * local replies are written there and end it; a 101 from upstream turns it into a tunnel.
   */
  private onUpgrade(req: DownstreamRequest, res: DownstreamResponse, head: Buffer): void {
    const socket = req.socket;
    this.httpConnections.delete(socket); // a tunnel from now on: a drain lets it run to its grace
    const c = this.config();
    const listener = c?.listeners.get(this.name);
    const scoped = listener && this.scopeOf(socket, listener);
    if (!c || !scoped) {
      socket.destroy();
      return;
    }
    handleRequest(this.host.ctx, c, scoped.listener, req, res, { socket, head }, scoped.scope);
  }

  private onConnect(req: DownstreamRequest, socket: Socket, head: Buffer): void {
    const ctx = this.host.ctx;
    this.httpConnections.delete(socket);
    const c = this.config();
    const listener = c?.listeners.get(this.name);
    // A CONNECT inside a tunnel or on a gateway is not a new tunnel request: 404 NR, as Envoy's router.
    if (!c || listener?.kind !== 'sidecar-outbound' || this.tunnels.has(socket)) {
      refuseConnect(ctx, c, req, socket);
      return;
    }
    void handleSidecarConnect(ctx, c, listener, req, socket, head, (s, tunnel) => {
      this.tunnels.set(s, tunnel);
      this.serve(s);
    }).catch((err: unknown) => {
      ctx.warn(`CONNECT on ${this.name}: ${err instanceof Error ? err.stack : String(err)}`);
      socket.destroy();
    });
  }

  /**
   * Envoy's drain: the listener keeps accepting and serving, but every response closes its connection and idle
   * keep-alive connections close now. It closes once `minMs` has passed and no connection is left, or after
   * `graceMs` (the rest are then cut). Accepting meanwhile serves the stragglers: requests a client routed here
   * just before it learned otherwise. Resolves true when closed, false when revived first.
   */
  async drain(graceMs: number, minMs = 0): Promise<boolean> {
    this.draining = true;
    this.closeIdle();
    const started = Date.now();
    const outcome = await new Promise<'closed' | 'revived'>((resolve) => {
      const finish = (how: 'closed' | 'revived'): void => {
        clearTimeout(grace);
        clearTimeout(least);
        this.onEmpty = undefined;
        this.stopDrain = undefined;
        resolve(how);
      };
      const whenEmpty = (): void => {
        if (this.sockets.size === 0 && Date.now() - started >= minMs) finish('closed');
      };
      const grace = setTimeout(() => finish('closed'), graceMs);
      const least = setTimeout(whenEmpty, minMs);
      grace.unref();
      least.unref();
      this.onEmpty = whenEmpty;
      this.stopDrain = () => finish('revived');
      whenEmpty();
    });
    if (outcome === 'revived') return false;
    await this.close(0);
    return true;
  }

  /**
   * A push that adds back a listener on the address and port of one still draining takes the draining one over
   * (under its new name), instead of failing to bind beside it.
   */
  revive(name: string): void {
    this.stopDrain?.();
    this.draining = false;
    this.retired = undefined;
    this.name = name;
  }

  /**
   * Closes the keep-alive connections waiting for a next request, and those with a response in flight once it is
   * done. A connection that has not sent its first request yet is not idle: it was just opened to send one (it gets
   * its answer, and `Connection: close` when draining).
   */
  private closeIdle(): void {
    for (const [socket, conn] of this.httpConnections) {
      if (conn.inFlight > 0) conn.closeWhenIdle();
      // Its last response may still be held for the end of the turn.
      else if (conn.served) destroyAfterHeld(socket);
    }
  }

  /** Stops accepting; connections in flight get `graceMs` to finish before they are cut. */
  close(graceMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cut = (): void => {
        for (const s of this.sockets) s.destroy();
      };
      const timer = setTimeout(cut, graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.closeIdle();
      if (graceMs === 0) cut();
    });
  }
}
