// Requests that never reach the router: bytes Node's HTTP parser rejects, and CONNECT where no tunnel may open
// (a gateway, or a CONNECT inside a tunnel). Each gets a local reply on the raw socket and an access-log line.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { CompiledConfig } from './compile-config.js';
import { ERROR_CATALOG, type ProxyErrorCode } from './errors.js';
import { connectStreamInfo } from './network/connect.js';
import { writeRawReply } from './network/raw-reply.js';
import type { PlaneContext } from './request-handler.js';
import { formatAddress, StreamInfo } from './stream-info.js';

/** CONNECT where no tunnel may open: Envoy's router finds no route for it (404 NR). */
export function refuseConnect(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  req: IncomingMessage,
  socket: Socket,
): void {
  reply(ctx, config, connectStreamInfo(ctx, req, socket), socket, 'route_not_found');
}

/** Node's clientError: a malformed request, oversize headers, or a request that took too long to arrive. */
export function handleClientError(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  err: NodeJS.ErrnoException,
  socket: Socket,
): void {
  // Nothing is logged for a client that just left.
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const info = new StreamInfo(ctx.now());
  info.downstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort);
  info.downstreamRemoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
  info.protocol = 'HTTP/1.1';
  reply(ctx, config, info, socket, clientErrorCode(err));
}

function clientErrorCode(err: NodeJS.ErrnoException): ProxyErrorCode {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'downstream_headers_too_large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'downstream_request_timeout';
    default:
      return 'downstream_protocol_error';
  }
}

function reply(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  info: StreamInfo,
  socket: Socket,
  code: ProxyErrorCode,
): void {
  const spec = ERROR_CATALOG[code];
  if (spec.flag) info.flags.add(spec.flag);
  info.details = spec.details;
  info.responseCode = spec.status;
  info.bytesSent = writeRawReply(socket, spec.status, spec.body);
  if (config) ctx.completeStream(info, config);
}
