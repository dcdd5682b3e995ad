// Requests that never reach the router: CONNECT (no tunnelling yet) and bytes Node's HTTP parser rejects.
// Both get a local reply on the raw socket and an access-log line, like every other request.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CompiledConfig } from './compile-config.js';
import { ERROR_CATALOG, type ProxyErrorCode } from './errors.js';
import { writeRawReply } from './local-reply.js';
import type { PlaneContext } from './request-handler.js';
import { formatAddress, StreamInfo } from './stream-info.js';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
};

/** CONNECT is answered 501 until HTTPS egress lands; the structure (own handler, own log line) stays. */
export function handleConnect(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  req: IncomingMessage,
  socket: Duplex,
): void {
  const info = streamInfoFor(ctx, socket as Socket);
  info.method = 'CONNECT';
  info.protocol = `HTTP/${req.httpVersion}`;
  info.authority = req.url;
  info.userAgent = req.headers['user-agent'];
  reply(ctx, config, info, socket as Socket, 'connect_not_supported');
}

/** Node's clientError: a malformed request or oversize headers. Nothing is logged for a client that just left. */
export function handleClientError(
  ctx: PlaneContext,
  config: CompiledConfig | undefined,
  err: NodeJS.ErrnoException,
  socket: Duplex,
): void {
  const s = socket as Socket;
  if (err.code === 'ECONNRESET' || !s.writable) {
    s.destroy();
    return;
  }
  const info = streamInfoFor(ctx, s);
  info.protocol = 'HTTP/1.1';
  const code: ProxyErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'downstream_headers_too_large' : 'downstream_protocol_error';
  reply(ctx, config, info, s, code);
}

function streamInfoFor(ctx: PlaneContext, socket: Socket): StreamInfo {
  const info = new StreamInfo(ctx.now());
  info.downstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort);
  info.downstreamRemoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
  return info;
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
  info.bytesSent = writeRawReply(socket, spec.status, REASONS[spec.status] ?? 'Error', spec.body);
  if (config) ctx.completeStream(info, config);
}
