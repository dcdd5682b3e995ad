// Reading a connection's first bytes to choose its filter chain (Envoy's listener filters): the bytes are kept and
// handed on with the verdict, so nothing is lost for the chain that takes the connection.
import type { Socket } from 'node:net';
import { inspectClientHello, MAX_CLIENT_HELLO_BYTES } from './client-hello.js';

export type InspectResult =
  | { readonly kind: 'tls'; readonly serverName: string | undefined; readonly alpn: readonly string[] }
  | { readonly kind: 'raw' }
  /** Nothing arrived in time: a server-first protocol, or a client that waits; choose without the bytes. */
  | { readonly kind: 'timeout' }
  | { readonly kind: 'malformed'; readonly reason: string }
  /** The client closed or reset before a verdict. */
  | { readonly kind: 'closed' };

/** Envoy's listener_filters_timeout default. */
export const INSPECT_TIMEOUT_MS = 15_000;

/**
 * Reads from `socket` until its first bytes say whether it is TLS and, if so, which server name it asks for.
 * `initial` holds bytes already read (a CONNECT request's head). Resolves with the verdict and every byte read;
 * the socket is paused, without data listeners, so the caller can unshift the bytes or write them upstream.
 */
export function inspectConnection(
  socket: Socket,
  initial: Buffer,
  timeoutMs = INSPECT_TIMEOUT_MS,
): Promise<{ result: InspectResult; bytes: Buffer }> {
  return new Promise((resolve) => {
    let bytes = initial;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: InspectResult): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('end', onClose);
      socket.pause();
      resolve({ result, bytes });
    };
    const decide = (): boolean => {
      const v = inspectClientHello(bytes);
      switch (v.kind) {
        case 'incomplete':
          if (bytes.length > MAX_CLIENT_HELLO_BYTES) finish({ kind: 'malformed', reason: 'ClientHello too large' });
          else return false;
          return true;
        case 'raw':
          finish({ kind: 'raw' });
          return true;
        case 'tls':
          finish({ kind: 'tls', serverName: v.serverName, alpn: v.alpn });
          return true;
        case 'malformed':
          finish({ kind: 'malformed', reason: v.reason });
          return true;
      }
    };
    const onData = (chunk: Buffer): void => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      decide();
    };
    const onClose = (): void => finish({ kind: 'closed' });
    if (bytes.length > 0 && decide()) return;
    timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('end', onClose);
    socket.resume();
  });
}
