// The client side of the HTTP/1.1 codec: one request/response exchange with an upstream endpoint, carried by a
// pooled connection (./connection.ts) that the cluster's UpstreamPool (./pool.ts) hands out. The exchange is also
// the response it receives (one object per request: no emitter, no stream, no closure), and its body is delivered
// with flow control on the connection it arrives on.
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { UpstreamConnection } from './connection.js';
import type { UpstreamResponse } from './types.js';
import { chunkSizeLine } from './chunked.js';
import { serializeHeaders } from './head-writer.js';
import { combineHeaders, contentLength, WireError } from './wire.js';
import { beforeWrite } from './write-turn.js';

/** Marks HeaderLines (a symbol: no header of a parsed or built headers object can have it). */
export const HEADER_LINES: unique symbol = Symbol('header lines');

/**
 * Request headers that write their own lines: a proxy passing on the headers of a request it parsed needs no check
 * per value (the parse proved them), nor a copy made only to be written.
 */
export interface HeaderLines {
  readonly [HEADER_LINES]: true;
  /** "name: value\r\n" per header; throws a WireError for a name or value that would end a line early. */
  lines(): string;
  /** A header's value (lower-case name). */
  get(name: string): OutgoingHttpHeader | undefined;
}

export function isHeaderLines(headers: OutgoingHttpHeaders | HeaderLines): headers is HeaderLines {
  return (headers as Partial<HeaderLines>)[HEADER_LINES] === true;
}

function headerOf(headers: OutgoingHttpHeaders | HeaderLines, name: string): OutgoingHttpHeader | undefined {
  return isHeaderLines(headers) ? headers.get(name) : headers[name];
}

export interface ExchangeOptions {
  readonly ip: string;
  readonly port: number;
  readonly localAddress: string | undefined;
  readonly method: string;
  readonly path: string;
  /** Complete request headers, host included, lower-case names; the codec adds only framing (a given
   *  content-length is kept; with hasBody and none, `transfer-encoding: chunked`). */
  readonly headers: OutgoingHttpHeaders | HeaderLines;
  readonly hasBody: boolean;
  /** TLS: the SNI to send (undefined or '': none) and the identity check run on the peer certificate. */
  readonly servername?: string | undefined;
  readonly checkServerIdentity?: (servername: string, cert: PeerCertificate) => Error | undefined;
}

export interface ExchangeEvents {
  /** A connection was assigned: a pooled one (reused: ready now) or a new one (connecting). */
  onSocket(reused: boolean): void;
  /** Ready to send: TCP up (and TLS verified) for a new connection, at once for a reused one. `local` is
   *  "ip:port" of our end, worked out once per connection. The request head is written at this point (on a pooled
   *  connection, a request without a body left already when the exchange was made). */
  onConnected(local: string): void;
  /** Response head received (1xx other than 101 are skipped). */
  onResponse(res: UpstreamResponse): void;
  /** 101 to a request that asked to upgrade: the socket leaves the pool, with none of the pool's listeners left
   *  on it (attach an 'error' listener at once); head = bytes read past the 101's head. */
  onUpgrade(res: UpstreamResponse, socket: Socket, head: Buffer): void;
  /** The exchange failed. phase: 'connect' (TCP never came up), 'tls' (handshake/verification failed),
   *  'exchange' (the connection broke, or the response could not be parsed, before the response head arrived). */
  onError(err: Error, phase: FailurePhase): void;
}

export type FailurePhase = 'connect' | 'tls' | 'exchange';

export interface Exchange {
  /** Request body bytes (only after onConnected; hasBody must be true). False: wait for onDrain. */
  write(chunk: Buffer): boolean;
  onDrain(listener: () => void): void;
  /** The request is complete (for hasBody; without a body the codec ends it itself after the head). */
  end(): void;
  /** Abandons the exchange: its connection is closed, never pooled; no further events. */
  destroy(): void;
}

/**
 * Where an exchange is. `waiting`: queued for a connection; `assigned`: a connection is its (events pending);
 * `sending`: the head went out, no response head yet; `body`: the response head arrived, its body is coming;
 * `done`: finished, failed, aborted or destroyed — nothing more happens.
 */
type ExchangeState = 'waiting' | 'assigned' | 'sending' | 'body' | 'done';

const NO_RAW_HEADERS: readonly string[] = Object.freeze([]);
// The request line must not be able to end early or carry a second request. The head is written as latin1, so a
// character above U+00FF would go out as another byte (U+010A as LF): refused too.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const BREAKS_REQUEST_LINE = /[\x00-\x20\x7f\u0100-\uffff]/;
/** Body bytes held for a consumer that has not set its listener yet, before the connection is paused. */
const HOLD_LIMIT = 64 * 1024;

export class ClientExchange implements Exchange, UpstreamResponse {
  statusCode = 0;
  statusMessage = '';
  rawHeaders: readonly string[] = NO_RAW_HEADERS;
  /** The headers object, made from the raw headers the first time it is asked for (a response forwarded as it
   *  came never needs it). */
  private combined: IncomingHttpHeaders | undefined;
  hasBody = false;
  complete = false;

  state: ExchangeState = 'waiting';
  /** The connection carrying the exchange, from assignment until the response ends (or the exchange fails). */
  conn: UpstreamConnection | undefined;
  reused = false;
  /** The request asked to upgrade: a 101 hands the connection over instead of being refused. */
  readonly upgradeRequested: boolean;
  /** The request head as written, framing included. */
  readonly head: string;
  /** Set when the head cannot be written (the exchange then fails without taking a connection). */
  readonly headError: Error | undefined;
  /** Request body bytes still owed under a content-length; -1 when the body is chunked on the wire. */
  private bodyLeft: number;
  /** end() was called (or there is no body): the request is whole unless `bodyLeft` says otherwise. */
  private requestEnded: boolean;

  private dataListener: ((chunk: Buffer) => void) | undefined;
  private endListener: (() => void) | undefined;
  private abortListener: ((err: Error) => void) | undefined;
  private drainListener: (() => void) | undefined;
  /** Body pieces read off the connection but not yet delivered (no data listener yet, or paused). */
  private held: Buffer[] | undefined;
  /** Bytes in `held`: the connection is paused only once they pass HOLD_LIMIT or the consumer paused. */
  private heldBytes = 0;
  /** This exchange paused the connection because too much was held. */
  private heldPaused = false;
  private paused = false;
  private discarding = false;
  /** The connection has read the whole body; `complete` follows once the held pieces are delivered. */
  private bodyRead = false;
  private abortError: Error | undefined;
  /** The head left as the pooled connection was assigned, before the exchange's events (see assign). */
  private headEarly = false;

  constructor(
    readonly options: ExchangeOptions,
    readonly events: ExchangeEvents,
  ) {
    this.upgradeRequested = headerOf(options.headers, 'upgrade') !== undefined;
    this.requestEnded = !options.hasBody;
    const given = headerOf(options.headers, 'content-length');
    let bodyLeft = -1;
    let head = '';
    try {
      if (options.hasBody && given !== undefined) bodyLeft = contentLength(String(given));
      head = requestHead(options, bodyLeft);
    } catch (err) {
      this.headError = err as Error;
    }
    this.bodyLeft = bodyLeft;
    this.head = head;
  }

  /**
   * A connection is this exchange's: its events start on the next tick (never inside the caller's own call). On a
   * pooled connection a request without a body leaves at once: nothing it waits for comes before its head.
   */
  assign(conn: UpstreamConnection, reused: boolean): void {
    this.conn = conn;
    this.reused = reused;
    this.state = 'assigned';
    if (reused && !this.options.hasBody) {
      this.state = 'sending';
      this.headEarly = true;
      beforeWrite(conn.socket);
      conn.socket.write(this.head, 'latin1');
    }
    process.nextTick(startExchange, this);
  }

  /** Writes the request head (corked with whatever body onConnected writes, so it leaves in one write). */
  send(conn: UpstreamConnection): void {
    if (this.headEarly) {
      // The head left when the connection was assigned; the exchange hears of it now.
      this.headEarly = false;
      if (this.state === 'sending') this.events.onConnected(conn.local);
      return;
    }
    if (this.state !== 'assigned') return;
    this.state = 'sending';
    const socket = conn.socket;
    beforeWrite(socket);
    if (!this.options.hasBody) {
      socket.write(this.head, 'latin1');
      this.events.onConnected(conn.local);
      return;
    }
    socket.cork();
    socket.write(this.head, 'latin1');
    this.events.onConnected(conn.local);
    socket.uncork();
  }

  write(chunk: Buffer): boolean {
    const conn = this.conn;
    if (conn === undefined || this.requestEnded || chunk.length === 0) return true;
    const socket = conn.socket;
    beforeWrite(socket);
    if (this.bodyLeft < 0) {
      // A chunk of zero bytes would end the body; those were skipped above.
      socket.cork();
      socket.write(chunkSizeLine(chunk.length), 'latin1');
      socket.write(chunk);
      const flowing = socket.write('\r\n', 'latin1');
      socket.uncork();
      return flowing;
    }
    this.bodyLeft -= chunk.length;
    // More than announced would reach the upstream as the start of another request.
    if (this.bodyLeft < 0) {
      conn.fail(new Error('request body longer than its content-length'));
      return true;
    }
    return socket.write(chunk);
  }

  onDrain(listener: () => void): void {
    this.drainListener = listener;
  }

  drained(): void {
    this.drainListener?.();
  }

  end(): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    const conn = this.conn;
    if (this.bodyLeft < 0 && conn !== undefined) {
      beforeWrite(conn.socket);
      conn.socket.write('0\r\n\r\n', 'latin1');
    }
  }

  /** The upstream has the whole request: the connection can carry another one after the response. */
  requestWhole(): boolean {
    return this.requestEnded && this.bodyLeft <= 0;
  }

  destroy(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    const conn = this.conn;
    this.conn = undefined;
    conn?.close();
  }

  get headers(): IncomingHttpHeaders {
    if (this.combined === undefined) this.combined = combineHeaders(this.rawHeaders);
    return this.combined;
  }

  /** The response head arrived (its body, if any, follows through push()). */
  responded(statusCode: number, statusMessage: string, rawHeaders: string[]): void {
    this.statusCode = statusCode;
    this.statusMessage = statusMessage;
    this.rawHeaders = rawHeaders;
    this.state = 'body';
  }

  /** A 101 took the connection out of the pool: the exchange ends here, with no body. */
  upgraded(statusCode: number, statusMessage: string, rawHeaders: string[]): void {
    this.responded(statusCode, statusMessage, rawHeaders);
    this.state = 'done';
    this.complete = true;
    this.conn = undefined;
  }

  // --- the response body (BodySource) ---

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListener = listener;
    if (this.held !== undefined) process.nextTick(flushHeld, this);
  }

  onEnd(listener: () => void): void {
    if (this.complete) process.nextTick(listener);
    else this.endListener = listener;
  }

  onAborted(listener: (err: Error) => void): void {
    if (this.abortError !== undefined) process.nextTick(listener, this.abortError);
    else this.abortListener = listener;
  }

  pause(): void {
    this.paused = true;
    this.conn?.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.held !== undefined) process.nextTick(flushHeld, this);
    else this.conn?.socket.resume();
  }

  discard(): void {
    if (this.discarding) return;
    this.discarding = true;
    this.held = undefined;
    this.heldBytes = 0;
    this.paused = false;
    if (this.bodyRead) process.nextTick(finishExchange, this);
    else this.conn?.socket.resume();
  }

  /** A piece of the body, as read off the connection. */
  push(piece: Buffer): void {
    if (this.state !== 'body' || this.discarding) return;
    const listener = this.dataListener;
    if (listener !== undefined && !this.paused && this.held === undefined) {
      listener(piece);
      return;
    }
    // Subarrays of the socket's own reads: nothing else writes to them, so holding them needs no copy.
    if (this.held === undefined) {
      this.held = [piece];
      this.heldBytes = piece.length;
    } else {
      this.held.push(piece);
      this.heldBytes += piece.length;
    }
    // A response's first piece usually comes with its head, before the consumer has set its listener (it does so
    // within the tick): pausing the socket for it would cost a pause and a resume per request.
    if (this.paused || this.heldBytes > HOLD_LIMIT) {
      this.heldPaused = true;
      this.conn?.socket.pause();
    }
  }

  /** Delivers what was held while there was no listener or the consumer had paused. */
  flush(): void {
    const held = this.held;
    const listener = this.dataListener;
    if (held === undefined || listener === undefined || this.state !== 'body') return;
    let i = 0;
    while (i < held.length && !this.paused && this.state === 'body') listener(held[i++]!);
    if (i < held.length) {
      held.splice(0, i);
      return;
    }
    this.held = undefined;
    this.heldBytes = 0;
    if (this.bodyRead) this.finish();
    else if (!this.paused && this.heldPaused) {
      this.heldPaused = false;
      this.conn?.socket.resume();
    }
  }

  /** The connection has read the last byte of the body. */
  bodyEnded(): void {
    this.bodyRead = true;
    if (this.held === undefined) this.finish();
  }

  /** The response is complete: the connection goes back to the pool (or closes), then the consumer hears of it. */
  finish(): void {
    if (this.state !== 'body') return;
    this.state = 'done';
    this.complete = true;
    const conn = this.conn;
    this.conn = undefined;
    conn?.exchangeDone(this);
    this.endListener?.();
  }

  /** A callback of the consumer threw: this exchange fails and its connection closes; nothing else is touched. */
  faulted(err: unknown): void {
    const failure = err instanceof Error ? err : new Error(String(err));
    const conn = this.conn;
    if (conn !== undefined) conn.fail(failure);
    else this.broken(failure, 'exchange');
  }

  /** The connection broke or the response could not be read. */
  broken(err: Error, phase: FailurePhase): void {
    const state = this.state;
    if (state === 'done') return;
    this.state = 'done';
    this.conn = undefined;
    if (state === 'body') {
      this.abortError = err;
      this.abortListener?.(err);
    } else this.events.onError(err, phase);
  }
}

/** The request line and headers, with the framing header the body needs. Throws for what would break the line. */
function requestHead(o: ExchangeOptions, bodyLeft: number): string {
  if (BREAKS_REQUEST_LINE.test(o.method) || BREAKS_REQUEST_LINE.test(o.path)) {
    throw new WireError('malformed', `invalid request line ${JSON.stringify(`${o.method} ${o.path}`)}`);
  }
  const h = o.headers;
  const framing =
    o.hasBody && bodyLeft < 0 && headerOf(h, 'transfer-encoding') === undefined ? 'transfer-encoding: chunked\r\n' : '';
  return `${o.method} ${o.path} HTTP/1.1\r\n${isHeaderLines(h) ? h.lines() : serializeHeaders(h)}${framing}\r\n`;
}

// The steps run on a later tick call the consumer: a throw there fails that exchange alone (ClientExchange.faulted).

function startExchange(ex: ClientExchange): void {
  // 'sending': a pooled connection already carries the head (assign).
  if (ex.state !== 'assigned' && ex.state !== 'sending') return;
  try {
    ex.events.onSocket(ex.reused);
    // A new connection sends once it is up (UpstreamConnection's connect handlers).
    if (ex.reused && ex.conn !== undefined) ex.send(ex.conn);
  } catch (err) {
    ex.faulted(err);
  }
}

function flushHeld(ex: ClientExchange): void {
  try {
    ex.flush();
  } catch (err) {
    ex.faulted(err);
  }
}

function finishExchange(ex: ClientExchange): void {
  try {
    ex.finish();
  } catch (err) {
    ex.faulted(err);
  }
}

/** For failures found before a connection is assigned (a head that cannot be written, a pool closed). */
export function failSoon(ex: ClientExchange, err: Error, phase: FailurePhase): void {
  process.nextTick(failExchange, ex, err, phase);
}

function failExchange(ex: ClientExchange, err: Error, phase: FailurePhase): void {
  ex.broken(err, phase);
}
