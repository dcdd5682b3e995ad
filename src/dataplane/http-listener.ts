// A bound listener: a node:http server whose socket outlives config pushes while the listener's name, address
// and port stay the same. Each request reads the config in force when it arrived.
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CompiledConfig } from './compile-config.js';
import { handleClientError, handleConnect } from './connection-events.js';
import { handleRequest, type PlaneContext } from './request-handler.js';
import { sendLocalReply } from './local-reply.js';
import { StreamInfo } from './stream-info.js';

export interface ListenerHost {
  readonly ctx: PlaneContext;
  currentConfig(): CompiledConfig | undefined;
}

export class ListenerHandle {
  /** Mutable only when a push renames a listener that keeps its address and port. */
  name: string;
  readonly address: string;
  readonly requestedPort: number;
  /** Set when a push removed this listener: requests still arriving on open connections use it. */
  retired: CompiledConfig | undefined;
  private readonly server: Server;

  private constructor(name: string, address: string, port: number, server: Server) {
    this.name = name;
    this.address = address;
    this.requestedPort = port;
    this.server = server;
  }

  static async open(name: string, address: string, port: number, host: ListenerHost): Promise<ListenerHandle> {
    const server = createServer({ requireHostHeader: false });
    const handle = new ListenerHandle(name, address, port, server);
    const config = (): CompiledConfig | undefined => handle.retired ?? host.currentConfig();
    server.on('request', (req, res) => {
      const c = config();
      const listener = c?.listeners.get(handle.name);
      if (!c || !listener) {
        // Unreachable while the listener is configured; answer rather than hang.
        sendLocalReply(
          res,
          new StreamInfo(host.ctx.now()),
          { status: 404, body: '', details: 'route_not_found' },
          undefined,
        );
        return;
      }
      handleRequest(host.ctx, c, listener, req, res);
    });
    // Upgrade requests (WebSocket) take the same route as any request, with a response bound to their raw
    // connection: local replies (502 block_all, 404 NR, 503 ...) are written there and end it; a 101 from
    // upstream turns the connection into a tunnel (forward.ts).
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const c = config();
      const listener = c?.listeners.get(handle.name);
      if (!c || !listener) {
        socket.destroy();
        return;
      }
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket);
      res.once('finish', () => socket.end());
      handleRequest(host.ctx, c, listener, req, res, { socket, head });
    });
    server.on('connect', (req, socket) => handleConnect(host.ctx, config(), req, socket));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) =>
      handleClientError(host.ctx, config(), err, socket),
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => host.ctx.warn(`listener ${handle.name}: ${err.message}`));
    return handle;
  }

  get boundPort(): number {
    const a = this.server.address() as AddressInfo | null;
    return a?.port ?? this.requestedPort;
  }

  /** Stops accepting; requests in flight get `graceMs` to finish before their connections are cut. */
  close(graceMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }
}
