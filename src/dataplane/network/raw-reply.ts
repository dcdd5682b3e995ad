// A local reply written straight onto a connection that has no usable HTTP response object (a parse error, a
// CONNECT that is refused). The connection is closed after it.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** Writes the reply and ends the connection; returns the body's length (the access log's bytes_sent). */
export function writeRawReply(socket: Socket, status: number, body: string): number {
  const bytes = Buffer.from(body);
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-length: ${bytes.length}\r\n` +
    (bytes.length > 0 ? 'content-type: text/plain\r\n' : '') +
    'server: envoy\r\nconnection: close\r\n\r\n';
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
  else socket.destroy();
  return bytes.length;
}
