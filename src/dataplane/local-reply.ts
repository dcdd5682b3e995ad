// Responses the proxy writes itself (Envoy's local replies): direct responses, redirects and errors.
import type { OutgoingHttpHeaders } from 'node:http';
import type { CompiledRoute } from './compile-routes.js';
import { applyHeaderMutation } from './headers.js';
import type { DownstreamResponse } from './http1/types.js';
import type { StreamInfo } from './stream-info.js';

export interface LocalReply {
  readonly status: number;
  readonly body: string;
  readonly details: string;
  readonly headers?: OutgoingHttpHeaders;
}

export function sendLocalReply(
  res: DownstreamResponse,
  info: StreamInfo,
  reply: LocalReply,
  route: CompiledRoute | undefined,
): void {
  const body = Buffer.from(reply.body);
  const headers: OutgoingHttpHeaders = { ...reply.headers, 'content-length': body.length };
  if (body.length > 0) headers['content-type'] = 'text/plain';
  headers.server = 'envoy';
  applyHeaderMutation(headers, route?.responseHeaders);
  info.responseCode = reply.status;
  info.details = reply.details;
  // HEAD answers carry the headers only; the codec drops the body itself.
  if (res.req.method !== 'HEAD') info.bytesSent += body.length;
  res.writeHead(reply.status, headers);
  res.end(body);
}
