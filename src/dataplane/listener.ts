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

  private constructor(name: string, address: string, port: number, host: ListenerHost) {
    this.name = name;
    this.address = address;
    this.requestedPort = port;
    this.host = host;
    this.http = createHttpServer({ requireHostHeader: false, maxHeaderSize: MAX_REQUEST_HEADERS_BYTES });
    this.http.keepAliveTimeout = HTTP_IDLE_TIMEOUT_MS;
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
    socket.once('close', () => this.sockets.delete(socket));
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
    http.on('request', (req: IncomingMessage, res: ServerResponse) => {
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
      this.http.closeIdleConnections();
      if (graceMs === 0) cut();
    });
  }
}
