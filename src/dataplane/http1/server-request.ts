// A request read off a downstream connection, and its body as the connection decodes it. The connection decodes a
// body as its bytes arrive (so a malformed chunk is refused at once, as llhttp refuses it); pieces go straight to
// the reader when it reads, and are held (the socket's own buffers, not copies) while it has not started or has
// paused. The connection bounds what is held by pausing the socket.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { DownstreamRequest } from './types.js';
import type { RequestHead } from './wire.js';

/** What a request needs of the connection it arrived on. */
export interface RequestConnection {
  readonly socket: Socket;
  /** The reader paused, resumed or discarded: the connection reads the socket accordingly. */
  readingChanged(): void;
}

export class Http1Request implements DownstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly socket: Socket;
  readonly hasBody: boolean;
  complete: boolean;
  /** The reader asked to stop reading. */
  paused = false;
  /** Set when the body was cut short: the connection closed, or a chunk was malformed (and the connection ends). */
  aborted = false;
  /** Body bytes held for the reader. */
  heldBytes = 0;
  private readonly conn: RequestConnection;
  private discarding = false;
  private held: Buffer[] | undefined;
  private dataListener: ((chunk: Buffer) => void) | undefined;
  private endListener: (() => void) | undefined;
  private abortListener: ((err: Error) => void) | undefined;
  private abortError: Error | undefined;
  private endCalled = false;
  private flushQueued = false;

  constructor(conn: RequestConnection, head: RequestHead) {
    this.conn = conn;
    this.socket = conn.socket;
    this.method = head.method;
    this.url = head.url;
    this.httpVersionMinor = head.versionMinor;
    this.httpVersion = head.versionMinor === 1 ? '1.1' : '1.0';
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    const framing = head.framing.kind;
    this.hasBody = framing === 'length' || framing === 'chunked';
    this.complete = !this.hasBody;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListener = listener;
    if (this.held) this.queueFlush();
  }

  onEnd(listener: () => void): void {
    this.endListener = listener;
    if (this.complete && !this.held) this.queueFlush();
  }

  onAborted(listener: (err: Error) => void): void {
    this.abortListener = listener;
    if (this.aborted) process.nextTick(callAborted, this);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.conn.readingChanged();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.held || this.complete) this.queueFlush();
    this.conn.readingChanged();
  }

  discard(): void {
    if (this.discarding) return;
    this.discarding = true;
    this.held = undefined;
    this.heldBytes = 0;
    this.paused = false;
    if (this.complete) this.queueFlush();
    this.conn.readingChanged();
  }

  /** A piece of the body, from the connection: to the reader now if it reads, else held. */
  push(piece: Buffer): void {
    if (this.discarding || this.aborted) return;
    if (this.dataListener !== undefined && !this.paused && this.held === undefined) {
      this.dataListener(piece);
      return;
    }
    if (this.held === undefined) this.held = [piece];
    else this.held.push(piece);
    this.heldBytes += piece.length;
  }

  /** The whole body arrived. */
  finishBody(): void {
    this.complete = true;
    if (this.held === undefined && this.endListener !== undefined && !this.paused) this.callEnd();
  }

  /** The body was cut short. */
  abort(err: Error): void {
    if (this.complete || this.aborted) return;
    this.aborted = true;
    this.abortError = err;
    this.held = undefined;
    this.heldBytes = 0;
    this.callAbortListener();
  }

  /** Hands held pieces to the reader while it reads, then its end; on a later tick, as a stream would. */
  flush(): void {
    this.flushQueued = false;
    const held = this.held;
    if (held !== undefined && this.dataListener !== undefined && !this.discarding) {
      let i = 0;
      while (i < held.length && !this.paused) {
        const piece = held[i++]!;
        this.heldBytes -= piece.length;
        this.dataListener(piece);
      }
      if (i === held.length) this.held = undefined;
      else held.splice(0, i);
      this.conn.readingChanged();
    }
    if (this.complete && this.held === undefined && !this.paused && this.endListener !== undefined) this.callEnd();
  }

  private callEnd(): void {
    if (this.endCalled || this.aborted) return;
    this.endCalled = true;
    this.endListener!();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    process.nextTick(flushRequest, this);
  }

  callAbortListener(): void {
    const listener = this.abortListener;
    this.abortListener = undefined;
    listener?.(this.abortError!);
  }
}

function flushRequest(req: Http1Request): void {
  req.flush();
}

function callAborted(req: Http1Request): void {
  req.callAbortListener();
}
