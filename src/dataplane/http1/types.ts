// The HTTP/1.1 codec's surface: what the data plane reads from a downstream request and writes to its response,
// and what it reads from an upstream response. Names and meanings follow node:http's objects, so that what the
// plane does with a request reads the same; only the subset the plane uses exists, and nothing is per-request that
// a connection or a shared structure can hold.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ProvenFields } from './server-response.js';

/** A message body as it arrives: chunks in order, then its end, with flow control on the connection it comes on. */
export interface BodySource {
  /** True when the message has a body (chunked, or a Content-Length above 0). */
  readonly hasBody: boolean;
  /** True once the whole body arrived (at once for a message without one). */
  readonly complete: boolean;
  /** Called with each chunk of the body, in order; set once. Chunks are the connection's reads, never reused. */
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once when the body is complete (at once, on the next tick, for a message without a body). */
  onEnd(listener: () => void): void;
  /** Stops reading the connection (backpressure) until resume(). */
  pause(): void;
  resume(): void;
  /** Reads and discards whatever of the body has not been read (the message is not wanted). */
  discard(): void;
  /** Called once if the connection closes before the body is complete (then onEnd is never called). */
  onAborted(listener: (err: Error) => void): void;
}

/** A request parsed off a downstream connection. */
export interface DownstreamRequest extends BodySource {
  readonly method: string;
  /** The request-target as sent. */
  readonly url: string;
  /** "1.1" or "1.0". */
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** Lower-cased names; duplicates combined as node:http combines them. */
  readonly headers: IncomingHttpHeaders;
  /** Names as sent and values, alternating. */
  readonly rawHeaders: readonly string[];
  readonly socket: Socket;
}

/**
 * What the one party that owns a response hears of it, as direct calls: the same moments as the response's events,
 * without a listener registered (and removed) per request.
 */
export interface ResponseObserver {
  /** 'finish': the whole response was handed to the connection. */
  responseFinished(): void;
  /** 'close': once, after 'finish', or when the connection closed or the response was destroyed first. */
  responseClosed(): void;
  /** 'drain': the connection's buffer emptied after write() returned false. */
  responseDrained(): void;
}

export type ResponseEvent = 'finish' | 'close' | 'drain';

/**
 * The response to one downstream request. Events: 'finish' (the whole response was handed to the connection),
 * 'close' (once: after 'finish', or when the connection closed or the response was destroyed first), 'drain'.
 * Its `observer`, when set, hears each of them first.
 */
export interface DownstreamResponse {
  observer: ResponseObserver | undefined;
  /** Listens for an event; the emitter is made on first use (the proxy's own path uses `observer`). */
  on(event: ResponseEvent, listener: () => void): this;
  once(event: ResponseEvent, listener: () => void): this;
  off(event: ResponseEvent, listener: () => void): this;
  readonly req: DownstreamRequest;
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  /** False: the connection closes after this response, which then says `Connection: close`. */
  shouldKeepAlive: boolean;
  /**
   * Writes the status line and headers. Framing is the codec's: a `content-length` header is kept; without one
   * the body is chunked (or, for HEAD, 1xx, 204 and 304, absent). Hop-by-hop headers are the caller's to remove.
   * A `date` header is added when absent. Headers are an object, or a flat list of names and values alternating
   * (written in that order, each pair its own line, as node:http's writeHead takes it), each value checked; or
   * the lines of a parsed head, passed on as they are (ProvenFields).
   */
  writeHead(status: number, headers: OutgoingHttpHeaders | readonly string[] | ProvenFields): void;
  /** Body bytes; false when the connection's buffer is full (wait for 'drain'). */
  write(chunk: Buffer): boolean;
  /** Ends the response, with a last chunk. */
  end(chunk?: Buffer | string): void;
  /** Cuts the connection: the client sees the response end early. */
  destroy(): void;
}

/** The head of an upstream response, and its body. */
export interface UpstreamResponse extends BodySource {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** Stops the exchange: the connection is closed, not pooled. */
  destroy(): void;
}
