// A bound listener: one socket whose lifetime spans config pushes while the listener's name, address and port stay
// the same. Connections are dispatched by the listener's kind in the config in force when they arrive: to the HTTP
// connection manager (sidecar and plain gateway ports), or by filter chain (gateway TLS/TCP ports). Every accepted
// socket has an error listener from its first moment, so no fault on one connection can reach the process.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  ServerResponse,
  type Server as HttpServer,
} from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { CompiledConfig, CompiledListener } from './compile-config.js';
import { handleClientError, refuseConnect } from './connection-events.js';
import { sendLocalReply } from './local-reply.js';
import { handleSidecarConnect } from './network/connect.js';
import { handleGatewayConnection } from './network/gateway-connection.js';
import { handleRequest, type HttpListener, type PlaneContext, type RequestScope } from './request-handler.js';
import { StreamInfo } from './stream-info.js';

export interface ListenerHost {
  readonly ctx: PlaneContext;
  currentConfig(): CompiledConfig | undefined;
  /** How long a request's headers may take to arrive (408 after); Node's default is 60 s. */
  readonly requestHeadersTimeoutMs?: number;
}

/** Envoy's limits on request headers, which Istio keeps: 60 KiB in all (431 beyond). */
export const MAX_REQUEST_HEADERS_BYTES = 60 * 1024;
/** Envoy's HTTP connection idle timeout (1 h): a pooled keep-alive connection is not closed under a client. */
export const HTTP_IDLE_TIMEOUT_MS = 60 * 60 * 1000;

const ignore = (): void => {};

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
  private readonly server: net.Server;
  private readonly http: HttpServer;
  private readonly host: ListenerHost;
  /** Every accepted connection, until it closes: what a drain ends. */
  private readonly sockets = new Set<Socket>();
  /** Connections handed to the HTTP server by a CONNECT tunnel or a gateway chain, and what they route by. */
  private readonly tunnels = new WeakMap<object, { readonly host: string; readonly port: number }>();
  private readonly chains = new WeakMap<object, ChainScope>();
  /**
   * HTTP connections: how many requests each has in flight, and whether one was served. Kept here because the HTTP
   * server is fed connections rather than listening itself, so Node tracks none for closeIdleConnections().
   */
  private readonly httpConnections = new Map<Socket, { inFlight: number; served: boolean }>();
  /** Responses in flight: a drain tells those not yet started that their connection closes. */
  private readonly responses = new Set<ServerResponse>();
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
    const headersTimeout = host.requestHeadersTimeoutMs;
    this.http = createHttpServer({
      requireHostHeader: false,
      maxHeaderSize: MAX_REQUEST_HEADERS_BYTES,
      ...(headersTimeout !== undefined
        ? {
            headersTimeout,
            requestTimeout: 0,
            connectionsCheckingInterval: Math.max(10, Math.floor(headersTimeout / 4)),
          }
        : {}),
    });
    this.http.keepAliveTimeout = HTTP_IDLE_TIMEOUT_MS;
    // The HTTP server never listens itself (connections are handed to it), so it is told it does: that starts its
    // connection tracking, without which neither its header timeout (408, slow clients) nor closeIdleConnections
    // would work.
    this.http.emit('listening');
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    this.wireHttp();
  }

  static async open(name: string, address: string, port: number, host: ListenerHost): Promise<ListenerHandle> {
    const handle = new ListenerHandle(name, address, port, host);
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
    return this.retired ?? this.host.currentConfig();
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
    this.http.emit('connection', socket);
  }

  private handToHttp(socket: Socket, scope: ChainScope): void {
    socket.on('error', ignore);
    this.chains.set(socket, scope);
    this.http.emit('connection', socket);
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
    return { listener, scope: tunnel ? { tunnel } : {} };
  }

  private wireHttp(): void {
    const host = this.host;
    const http = this.http;
    http.on('connection', (socket: Socket) => {
      this.httpConnections.set(socket, { inFlight: 0, served: false });
      socket.once('close', () => this.httpConnections.delete(socket));
    });
    http.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      const conn = this.httpConnections.get(socket);
      if (conn) conn.inFlight++;
      this.responses.add(res);
      res.once('close', () => {
        this.responses.delete(res);
        if (!conn) return;
        conn.inFlight--;
        conn.served = true;
        // The response is written; close once it is flushed (the socket is half-open by design: end it whole).
        if (this.draining && conn.inFlight === 0) socket.end(() => socket.destroy());
      });
      // Draining: the response is served and its connection closed after it (HTTP/1.1 `Connection: close`).
      if (this.draining) res.setHeader('connection', 'close');
      const c = this.config();
      const listener = c?.listeners.get(this.name);
      const scoped = listener && this.scopeOf(req.socket, listener);
      if (!c || !scoped) {
        // Unreachable while the listener is configured; answer rather than hang.
        sendLocalReply(
          res,
          new StreamInfo(host.ctx.now()),
          { status: 404, body: '', details: 'route_not_found' },
          undefined,
        );
        return;
      }
      handleRequest(host.ctx, c, scoped.listener, req, res, undefined, scoped.scope);
    });
    // Upgrade requests (WebSocket) take the same route as any request, with a response bound to their raw
    // connection: local replies are written there and end it; a 101 from upstream turns it into a tunnel.
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', ignore);
      this.httpConnections.delete(socket); // a tunnel from now on: a drain lets it run to its grace
      const c = this.config();
      const listener = c?.listeners.get(this.name);
      const scoped = listener && this.scopeOf(socket, listener);
      if (!c || !scoped) {
        socket.destroy();
        return;
      }
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket);
      res.once('finish', () => socket.end());
      handleRequest(host.ctx, c, scoped.listener, req, res, { socket, head }, scoped.scope);
    });
    http.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', ignore);
      this.httpConnections.delete(socket);
      const c = this.config();
      const listener = c?.listeners.get(this.name);
      // A CONNECT inside a tunnel or on a gateway is not a new tunnel request: 404 NR, as Envoy's router.
      if (!c || listener?.kind !== 'sidecar-outbound' || this.tunnels.has(socket)) {
        refuseConnect(host.ctx, c, req, socket);
        return;
      }
      void handleSidecarConnect(host.ctx, c, listener, req, socket, head, (s, tunnel) => {
        this.tunnels.set(s, tunnel);
        http.emit('connection', s);
      }).catch((err: unknown) => {
        host.ctx.warn(`CONNECT on ${this.name}: ${err instanceof Error ? err.stack : String(err)}`);
        socket.destroy();
      });
    });
    http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      handleClientError(host.ctx, this.config(), err, socket);
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
    for (const res of this.responses) if (!res.headersSent) res.shouldKeepAlive = false;
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
   * Closes the keep-alive connections waiting for a next request. A connection that has not sent its first one
   * yet is not idle: it was just opened to send one (it gets its answer, and `Connection: close` when draining).
   */
  private closeIdle(): void {
    for (const [socket, conn] of this.httpConnections) if (conn.inFlight === 0 && conn.served) socket.destroy();
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
        // Stops the HTTP server's connection tracking (its header-timeout sweep); it reports "not running", which
        // is expected here: it never listened itself.
        this.http.close(() => {});
        resolve();
      });
      this.closeIdle();
      if (graceMs === 0) cut();
    });
  }
}
