// The server side of tollgate's HTTP/1.1 codec: requests read off a downstream connection (plain or TLS), one at a
// time, and their responses written back. Parsing is wire.ts's, as strict as llhttp; this file is the connection's
// life: heads, bodies, pipelining, keep-alive, timeouts, and handing the socket off for CONNECT and upgrades.
import type { Socket } from 'node:net';
import { RequestInput } from './server-input.js';
import { Http1Request, type RequestConnection } from './server-request.js';
import { Http1Response, type ResponseConnection } from './server-response.js';
import type { DownstreamRequest, DownstreamResponse } from './types.js';
import { ChunkedDecoder } from './chunked.js';
import { parseRequestHead, type RequestHead, WireError } from './wire.js';
import { destroyAfterHeld, requestsInFlight } from './write-turn.js';

export interface ServerLimits {
  /** Request line + headers, bytes (431 beyond): 60 KiB in the plane. */
  readonly maxHeaderBytes: number;
  /** From accepting (or from the end of the previous response) until a request's head is complete; undefined: none. */
  readonly headersTimeoutMs: number | undefined;
  /** A keep-alive connection with nothing in flight is closed after this long (1 h in the plane). */
  readonly idleTimeoutMs: number;
}

export type ClientErrorKind = 'malformed' | 'headers_too_large' | 'request_timeout';

export interface ServerHandlers {
  /** A request (not CONNECT, not an upgrade). The handler answers through res, now or later. */
  request(req: DownstreamRequest, res: DownstreamResponse): void;
  /**
   * A request with `Upgrade` + `Connection: upgrade`: the codec lets go of the socket (no more parsing on it).
   * res writes to that socket, says `Connection: close`, and its 'finish' ends the socket; `head` holds the bytes
   * read past the request head.
   */
  upgrade(req: DownstreamRequest, res: DownstreamResponse, head: Buffer): void;
  /** CONNECT: the codec lets go of the socket; `head` holds bytes read past the head. */
  connect(req: DownstreamRequest, socket: Socket, head: Buffer): void;
  /**
   * A request the codec refuses before any handler sees it (or, for a malformed chunked body, before its response
   * started). The handler writes the answer (400/431/408) itself on the socket; the codec then closes the socket
   * once that is written. `detail` says what was wrong (e.g. "Content-Length with Transfer-Encoding").
   */
  clientError(kind: ClientErrorKind, detail: string, socket: Socket): void;
  /**
   * A handler threw while the codec was reading this connection: the connection is destroyed (its response, if
   * any, closes unfinished) and the error is reported here. Nothing of it reaches another connection or the process.
   */
  fault?(err: unknown): void;
}

export interface Http1Connection {
  /** Requests whose response has not finished. */
  readonly inFlight: number;
  /** At least one response finished on this connection. */
  readonly served: boolean;
  /** Closes the connection now if it waits for a next request; else after the response in flight (no more keep-alive). */
  closeWhenIdle(): void;
}

/** Serves HTTP/1.1 requests on a connected socket (plain or TLS) until it closes or is handed off. */
export function serveHttp1(socket: Socket, handlers: ServerHandlers, limits: ServerLimits): Http1Connection {
  return new ServerConnection(socket, handlers, limits);
}

enum Phase {
  /** Waiting for a request head (the first, or the next on a kept-alive connection). */
  Head,
  /** Decoding the current request's body. */
  Body,
  /** The body is read; bytes that arrive (a pipelined request) wait for the response to finish. */
  AfterBody,
  /** The socket belongs to a CONNECT or upgrade handler now. */
  HandedOff,
  /** Ended after a last response or a refusal: what still arrives is read and dropped until the peer closes. */
  Closing,
  Closed,
}

/** Past this many unparsed bytes held while a request is in flight, the socket stops being read. */
const MAX_BUFFERED = 64 * 1024;
/** How long an ended connection waits, once its last bytes are flushed, for the peer to close before it is cut. */
const LINGER_MS = 2_000;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

function ignore(): void {}

class ServerConnection implements Http1Connection, RequestConnection, ResponseConnection {
  readonly socket: Socket;
  /** 1 while a request's response is unfinished; the process-wide count follows it (requestsInFlight). */
  private flight: 0 | 1 = 0;
  served = false;
  closing = false;
  current: Http1Response | undefined;
  private readonly handlers: ServerHandlers;
  private readonly limits: ServerLimits;
  private phase = Phase.Head;
  /** Bytes read and not yet consumed. */
  private readonly input = new RequestInput();
  /** The request whose body is being decoded, and how. */
  private reading: Http1Request | undefined;
  private remaining = 0;
  private decoder: ChunkedDecoder | undefined;
  private processing = false;
  private again = false;
  private socketPaused = false;
  private peerEnded = false;
  private headStartedAt: number;
  private idleSince: number;
  private lingerUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;

  constructor(socket: Socket, handlers: ServerHandlers, limits: ServerLimits) {
    this.socket = socket;
    this.handlers = handlers;
    this.limits = limits;
    socket.on('error', ignore);
    socket.setNoDelay(true);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onSocketDrain);
    this.headStartedAt = this.idleSince = Date.now();
    this.armTimer();
  }

  closeWhenIdle(): void {
    if (this.phase === Phase.Head && this.input.bytes === 0) {
      this.closeSocket();
      return;
    }
    this.closing = true;
    const res = this.current;
    if (res !== undefined && !res.headersSent) res.shouldKeepAlive = false;
  }

  get inFlight(): number {
    return this.flight;
  }

  private setInFlight(flight: 0 | 1): void {
    if (flight === this.flight) return;
    this.flight = flight;
    requestsInFlight(flight === 1 ? 1 : -1);
  }

  readingChanged(): void {
    if (this.processing) return;
    this.process();
  }

  responseDone(res: Http1Response): void {
    if (this.current !== res) return;
    this.current = undefined;
    this.setInFlight(0);
    this.served = true;
    if (!res.keptAlive || this.closing || this.phase === Phase.HandedOff) {
      this.closeSocket();
      return;
    }
    // A body the handler did not read is read and dropped before the next request (node:http's dump).
    if (this.phase === Phase.Body) this.reading!.discard();
    else if (this.phase === Phase.AfterBody) this.nextRequest();
  }

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.phase >= Phase.HandedOff) return;
    if (this.phase === Phase.Head && this.input.bytes === 0 && this.served) this.headStartedAt = Date.now();
    this.input.push(chunk);
    this.process();
  };

  private readonly onSocketEnd = (): void => {
    this.peerEnded = true;
    // A client that ends its side while its response is still to come has gone, as node:http (by default) and
    // Envoy take it: the connection is cut, so the request's handler hears 'close' without 'finish' and stops
    // waiting on its upstream. (While a body is still arriving, readBody cuts the exchange the same way.)
    const res = this.current;
    if (this.phase === Phase.AfterBody && res !== undefined && !res.writableEnded) {
      destroyAfterHeld(this.socket);
      return;
    }
    this.process();
  };

  private readonly onSocketClose = (): void => {
    this.phase = Phase.Closed;
    this.input.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const res = this.current;
    this.current = undefined;
    this.setInFlight(0);
    // What the request's owner does on hearing of it runs inside the socket's event: a throw stops here.
    try {
      this.reading?.abort(new Error('the connection closed before the request body was complete'));
      res?.connectionClosed();
    } catch (err) {
      this.handlers.fault?.(err);
    }
  };

  private readonly onSocketDrain = (): void => {
    try {
      this.current?.drained();
    } catch (err) {
      this.faulted(err);
    }
  };

  faulted(err: unknown): void {
    destroyAfterHeld(this.socket);
    this.handlers.fault?.(err);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    const due = this.deadline();
    if (due === undefined) return;
    const now = Date.now();
    if (now < due) {
      this.armTimer(now);
      return;
    }
    if (this.phase === Phase.Closing) destroyAfterHeld(this.socket);
    else if (this.headTimed()) {
      this.refuse('request_timeout', `the request head did not arrive within ${this.limits.headersTimeoutMs} ms`);
    } else this.closeSocket(); // idle between requests: closed silently, as node:http does
  };

  /** Reads what can be read now; re-entered calls (from a handler) are folded into the running one. */
  private process(): void {
    if (this.processing) {
      this.again = true;
      return;
    }
    this.processing = true;
    try {
      do {
        this.again = false;
        while (this.phase === Phase.Head ? this.readHead() : this.phase === Phase.Body && this.readBody());
      } while (this.again);
    } catch (err) {
      // Parse errors are answered where they arise; what lands here was thrown by a handler or a body listener.
      destroyAfterHeld(this.socket);
      this.handlers.fault?.(err);
      return;
    } finally {
      this.processing = false;
    }
    this.updateReading();
    if (this.phase === Phase.Head && this.input.bytes > 0) this.armTimer();
  }

  /** True when a request was dispatched (the phase moved on). */
  private readHead(): boolean {
    const input = this.input;
    if (!input.skipEmptyLines()) {
      if (this.peerEnded) {
        if (input.bytes === 0) this.closeSocket();
        else this.refuse('malformed', 'the connection closed in the middle of a request head');
      }
      return false;
    }
    let head: RequestHead;
    try {
      const end = input.findHead(this.limits.maxHeaderBytes);
      if (end < 0) {
        if (this.peerEnded) this.refuse('malformed', 'the connection closed in the middle of a request head');
        return false;
      }
      head = parseRequestHead(input.first, input.offset, end);
      input.consume(end - input.offset);
    } catch (err) {
      this.refuse(err instanceof WireError ? err.kind : 'malformed', (err as Error).message);
      return false;
    }
    this.dispatch(head);
    return true;
  }

  private dispatch(head: RequestHead): void {
    const req = new Http1Request(this, head);
    if (head.method === 'CONNECT') {
      this.handlers.connect(req, this.socket, this.handOff());
      return;
    }
    if (head.upgrade) {
      const res = new Http1Response(this, req, false);
      this.current = res;
      this.handlers.upgrade(req, res, this.handOff());
      return;
    }
    this.setInFlight(1);
    // HTTP/1.0 is answered (426 in the plane) and closed: no keep-alive is offered to it.
    const res = new Http1Response(this, req, head.keepAlive && head.versionMinor === 1 && !this.closing);
    this.current = res;
    const framing = head.framing;
    if (framing.kind === 'length') {
      this.remaining = framing.length;
      this.reading = req;
      this.phase = Phase.Body;
    } else if (framing.kind === 'chunked') {
      this.decoder = new ChunkedDecoder();
      this.reading = req;
      this.phase = Phase.Body;
    } else this.phase = Phase.AfterBody;
    if (head.expectContinue) this.socket.write(CONTINUE, 'latin1');
    this.handlers.request(req, res);
  }

  /** True while the body continues in what is buffered, false when it needs more bytes or ended the phase. */
  private readBody(): boolean {
    const req = this.reading!;
    while (this.input.bytes > 0 && this.phase === Phase.Body) {
      const buf = this.input.first;
      const at = this.input.offset;
      const decoder = this.decoder;
      if (decoder !== undefined) {
        let end: number;
        try {
          end = decoder.decode(buf, at, this.pushPiece);
        } catch (err) {
          this.bodyMalformed(err as Error);
          return false;
        }
        if (end < 0) this.input.consume(buf.length - at);
        else {
          this.input.consume(end - at);
          return this.bodyDone(req);
        }
      } else {
        const n = Math.min(this.remaining, buf.length - at);
        req.push(at === 0 && n === buf.length ? buf : buf.subarray(at, at + n));
        this.input.consume(n);
        this.remaining -= n;
        if (this.remaining === 0) return this.bodyDone(req);
      }
    }
    // The client half-closed before the body was whole: it can never be, so the exchange is cut.
    if (this.phase === Phase.Body && this.peerEnded) {
      req.abort(new Error('the client ended its side before the request body was complete'));
      destroyAfterHeld(this.socket);
    }
    return false;
  }

  private readonly pushPiece = (piece: Buffer): void => this.reading!.push(piece);

  private bodyDone(req: Http1Request): boolean {
    this.reading = undefined;
    this.decoder = undefined;
    this.phase = Phase.AfterBody;
    req.finishBody();
    if (this.current !== undefined || this.phase !== Phase.AfterBody) return false;
    return this.nextRequest();
  }

  /** A malformed chunk: a 400 when the response has not started, and either way the exchange ends. */
  private bodyMalformed(err: Error): void {
    const res = this.current;
    this.current = undefined;
    this.setInFlight(0);
    this.reading?.abort(err);
    this.reading = undefined;
    if (res !== undefined && !res.headersSent) this.refuse('malformed', err.message);
    else this.closeSocket();
    res?.connectionClosed();
  }

  /** The current response finished and the body was read: on to the next request (true), or the close. */
  private nextRequest(): boolean {
    if (this.closing) {
      this.closeSocket();
      return false;
    }
    this.phase = Phase.Head;
    const now = Date.now();
    if (this.input.bytes > 0) this.headStartedAt = now;
    else this.idleSince = now;
    this.armTimer(now);
    if (!this.processing) this.process();
    return true;
  }

  /** Lets go of the socket: what was read past the head goes with it, and the socket reads for its new owner. */
  private handOff(): Buffer {
    const rest = this.input.take();
    this.phase = Phase.HandedOff;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket.off('data', this.onSocketData);
    this.socket.off('end', this.onSocketEnd);
    // Neither flowing nor paused, as node:http leaves it: the new owner's 'data' listener or pipe() starts it.
    (this.socket as { readableFlowing: boolean | null }).readableFlowing = null;
    this.socketPaused = false;
    return rest;
  }

  /** Refuses the request on this connection: the handler answers, then the connection closes. */
  private refuse(kind: ClientErrorKind, detail: string): void {
    this.phase = Phase.Closing; // bytes arriving while the handler answers are dropped
    this.input.clear();
    this.reading = undefined;
    this.handlers.clientError(kind, detail, this.socket);
    this.endSocket(false);
  }

  /** Ends the connection; bytes still arriving are read and dropped (so the peer is not reset) until it closes. */
  private closeSocket(): void {
    if (this.phase === Phase.Closing || this.phase === Phase.Closed) return;
    const handedOff = this.phase === Phase.HandedOff;
    this.phase = Phase.Closing;
    this.input.clear();
    this.reading = undefined;
    this.endSocket(handedOff);
  }

  private endSocket(handedOff: boolean): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    if (socket.destroyed) return;
    // Read on to the peer's close; a handed-off socket is its new owner's to read.
    if (this.socketPaused && !handedOff) socket.resume();
    this.socketPaused = false;
    socket.end(() => {
      this.lingerUntil = Date.now() + LINGER_MS;
      this.armTimer();
    });
  }

  /** Stops reading while the reader paused, or while too much waits unparsed; reads again when that ends. */
  private updateReading(): void {
    if (this.phase >= Phase.HandedOff) return;
    const reading = this.reading;
    const pause =
      (reading !== undefined && reading.paused) ||
      this.input.bytes + (reading !== undefined ? reading.heldBytes : 0) > MAX_BUFFERED;
    if (pause === this.socketPaused) return;
    this.socketPaused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  /** When the timer must fire in the current phase, if at all. */
  private deadline(): number | undefined {
    if (this.phase === Phase.Head) {
      if (this.headTimed()) return this.headStartedAt + this.limits.headersTimeoutMs!;
      return this.idleSince + this.limits.idleTimeoutMs;
    }
    if (this.phase === Phase.Closing && this.lingerUntil > 0) return this.lingerUntil;
    return undefined;
  }

  /** The header timeout runs for the first request and for a head that has begun; not between requests. */
  private headTimed(): boolean {
    return this.limits.headersTimeoutMs !== undefined && (!this.served || this.input.bytes > 0);
  }

  /**
   * One timer per connection, moved only when a deadline comes earlier than it is set for; a later deadline is
   * found when it fires. So a request on a kept-alive connection does not touch it.
   */
  private armTimer(now = Date.now()): void {
    const due = this.deadline();
    if (due === undefined) return;
    if (this.timer !== undefined) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(this.onTimer, Math.max(0, due - now));
    this.timer.unref();
  }
}
