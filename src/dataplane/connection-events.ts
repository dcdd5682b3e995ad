// Requests that never reach the router: bytes the HTTP codec refuses, and CONNECT where no tunnel may open
// (a gateway, or a CONNECT inside a tunnel). Each gets a local reply on the raw socket and an access-log line.
import type { Socket } from 'node:net';
import type { CompiledConfig } from './compile-config.js';
import { ERROR_CATALOG, type ProxyErrorCode } from './errors.js';
import type { ClientErrorKind } from './http1/server.js';
import type { DownstreamRequest } from './http1/types.js';
import { connectStreamInfo } from './network/connect.js';
import { writeRawReply } from './network/raw-reply.js';
import type { PlaneContext } from './request-handler.js';
import { formatAddress, StreamInfo } from './stream-info.js';

/** CONNECT where no tunnel may open: Envoy's router finds no route for it (404 NR). */
export function refuseConnect(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  req: DownstreamRequest,
  socket: Socket,
): void {
  reply(ctx, config, connectStreamInfo(ctx, req, socket), socket, 'route_not_found');
}

/** A request the codec refused: malformed, oversize headers, or one that took too long to arrive. */
export function handleClientError(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  kind: ClientErrorKind,
  socket: Socket,
): void {
  // Nothing is logged for a client that just left.
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const info = new StreamInfo(ctx.now());
  info.downstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort);
  info.downstreamRemoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
  info.protocol = 'HTTP/1.1';
  reply(ctx, config, info, socket, CLIENT_ERRORS[kind]);
}

const CLIENT_ERRORS: Record<ClientErrorKind, ProxyErrorCode> = {
  malformed: 'downstream_protocol_error',
  headers_too_large: 'downstream_headers_too_large',
  request_timeout: 'downstream_request_timeout',
};

function reply(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  info: StreamInfo,
  socket: Socket,
  code: ProxyErrorCode,
): void {
  const spec = ERROR_CATALOG[code];
  if (spec.flag) info.addFlag(spec.flag);
  info.details = spec.details;
  info.responseCode = spec.status;
  info.bytesSent = writeRawReply(socket, spec.status, spec.body);
  if (config) ctx.completeStream(info, config);
}
