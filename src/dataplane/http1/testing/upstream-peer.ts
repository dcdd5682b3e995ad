// Test peers for the upstream client: a raw TCP server that reads requests off the wire as sent and answers with
// whatever bytes a test scripts, and a driver that runs one exchange through an UpstreamPool and records what it saw.
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import type { ExchangeOptions, UpstreamPool } from '../pool.js';
import type { UpstreamResponse } from '../types.js';

/** One request as it arrived: its head and its body bytes in their wire form (chunked framing included). */
export interface SeenRequest {
  readonly head: string;
  readonly body: string;
}

export interface PeerConnection {
  readonly socket: Socket;
  readonly requests: SeenRequest[];
  /** Set once the connection closed, from either end. */
  closed: boolean;
}

export interface RawUpstream {
  readonly port: number;
  readonly connections: PeerConnection[];
  close(): Promise<void>;
}

export type Answer = (conn: PeerConnection, req: SeenRequest) => void;

/**
 * A server that calls `answer` for each request: once its whole body arrived (Content-Length, or chunked up to the
 * last chunk), or as soon as its head did when `onHead` is set.
 */
export async function rawUpstream(answer: Answer, options: { onHead?: boolean } = {}): Promise<RawUpstream> {
  const connections: PeerConnection[] = [];
  const server = net.createServer((socket) => {
    const conn: PeerConnection = { socket, requests: [], closed: false };
    connections.push(conn);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => (conn.closed = true));
    let text = '';
    let answeredHead = false;
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      for (;;) {
        const headEnd = text.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = text.slice(0, headEnd + 4);
        if (options.onHead && !answeredHead) {
          answeredHead = true;
          answer(conn, { head, body: '' });
        }
        const bodyEnd = requestBodyEnd(head, text, headEnd + 4);
        if (bodyEnd < 0) return;
        const req = { head, body: text.slice(headEnd + 4, bodyEnd) };
        conn.requests.push(req);
        text = text.slice(bodyEnd);
        if (!options.onHead) answer(conn, req);
        answeredHead = false;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function requestBodyEnd(head: string, text: string, start: number): number {
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length !== undefined) return text.length - start >= Number(length) ? start + Number(length) : -1;
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return start;
  // Good enough for the bodies tests send: no chunk carries this sequence.
  const last = text.indexOf('\r\n0\r\n\r\n', start - 2);
  return last < 0 ? -1 : last + 7;
}

/** Writes `bytes` one at a time, each in its own TCP segment (a timer apart), then resolves. */
export async function writeByteByByte(socket: Socket, bytes: string): Promise<void> {
  for (const byte of Buffer.from(bytes, 'latin1')) {
    if (socket.destroyed) return;
    socket.write(Buffer.of(byte));
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** What one exchange went through, in order. */
export interface Outcome {
  readonly events: string[];
  reused: boolean | undefined;
  local: string | undefined;
  res: UpstreamResponse | undefined;
  body: string;
  error: { err: Error; phase: string } | undefined;
  aborted: Error | undefined;
  upgrade: { socket: NetSocket; head: Buffer } | undefined;
}

export interface DriveOptions extends Partial<ExchangeOptions> {
  readonly port: number;
  /** Request body chunks, written once connected, then end(). */
  readonly body?: readonly string[];
  /** Read the response body (default) or leave it to the test. */
  readonly read?: boolean;
}

/**
 * Runs one exchange and resolves when it is over: its body ended, it failed, was aborted or upgraded. With
 * `read: false` it resolves at the response head.
 */
export function drive(pool: UpstreamPool, o: DriveOptions): Promise<Outcome> {
  const outcome: Outcome = {
    events: [],
    reused: undefined,
    local: undefined,
    res: undefined,
    body: '',
    error: undefined,
    aborted: undefined,
    upgrade: undefined,
  };
  return new Promise((resolve, reject) => {
    // An exchange that never ends fails its test rather than hanging the run.
    const timer = setTimeout(() => reject(new Error(`exchange not over: ${outcome.events.join(', ')}`)), 5000);
    const settle = (): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    const ex = pool.exchange(
      {
        ip: '127.0.0.1',
        localAddress: undefined,
        method: 'GET',
        path: '/',
        headers: { host: 'upstream.test' },
        hasBody: o.body !== undefined,
        ...o,
      },
      {
        onSocket(reused) {
          outcome.events.push(`socket:${reused}`);
          outcome.reused = reused;
        },
        onConnected(local) {
          outcome.events.push('connected');
          outcome.local = local;
          if (o.body === undefined) return;
          for (const chunk of o.body) ex.write(Buffer.from(chunk));
          ex.end();
        },
        onResponse(res) {
          outcome.events.push(`response:${res.statusCode}`);
          outcome.res = res;
          if (o.read === false) {
            settle();
            return;
          }
          res.onData((chunk) => (outcome.body += chunk.toString('latin1')));
          res.onEnd(() => {
            outcome.events.push('end');
            settle();
          });
          res.onAborted((err) => {
            outcome.events.push('aborted');
            outcome.aborted = err;
            settle();
          });
        },
        onUpgrade(res, socket, head) {
          outcome.events.push(`upgrade:${res.statusCode}`);
          outcome.res = res;
          outcome.upgrade = { socket, head };
          settle();
        },
        onError(err, phase) {
          outcome.events.push(`error:${phase}`);
          outcome.error = { err, phase };
          settle();
        },
      },
    );
  });
}

/** Waits until `predicate` holds (a peer's view of a close arrives a little after ours). */
export async function until(predicate: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The code Node put on an error (ECONNRESET, ERR_TLS_CERT_ALTNAME_INVALID, ...). */
export function codeOf(err: Error | undefined): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The promise's value, or a failure naming what never happened (a test that waits must not hang the run). */
export function within<T>(promise: Promise<T>, what: string, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A slow consumer: takes a response body piece by piece, pausing after each and resuming a moment later; resolves
 * with the whole body once it ends (within `ms`).
 */
export function readSlowly(res: UpstreamResponse, ms = 3000): Promise<Buffer> {
  const pieces: Buffer[] = [];
  const ended = new Promise<void>((resolve) => res.onEnd(resolve));
  res.onData((chunk) => {
    pieces.push(chunk);
    res.pause();
    setImmediate(() => res.resume());
  });
  return within(ended, 'the body to end', ms).then(() => Buffer.concat(pieces));
}
