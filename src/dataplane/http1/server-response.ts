// The response to one downstream request, written straight onto the connection. The head is kept as a string until
// the first body bytes (or the end) so that a whole small response leaves in one socket write.
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Http1Request } from './server-request.js';
import type { DownstreamResponse, ResponseEvent, ResponseObserver } from './types.js';
import { chunkSizeLine } from './chunked.js';
import { httpDate, reasonPhrase, serializeHeaderList, serializeHeaders } from './head-writer.js';
import { endsInChunked, hasToken } from './wire.js';
import { beforeWrite, destroyAfterHeld } from './write-turn.js';

/**
 * Field lines already written ("name: value\r\n" each) from a head this codec parsed, which proved every name and
 * value clean: written on with no check per line, and no list made only to be written. Without hop-by-hop lines
 * (Connection, Transfer-Encoding and the rest): the caller says only whether a Date and a Content-Length are among
 * them, which is all the framing needs.
 */
export class ProvenFields {
  constructor(
    readonly lines: string,
    readonly hasDate: boolean,
    readonly hasContentLength: boolean,
  ) {}
}

/** What a response needs of the connection it is written on. */
export interface ResponseConnection {
  readonly socket: Socket;
  /** No more keep-alive on this connection. */
  readonly closing: boolean;
  /** The response being written now, if any. */
  readonly current: Http1Response | undefined;
  /** The response ended (a tick after end(), once 'finish' and 'close' were emitted). */
  responseDone(res: Http1Response): void;
  /** Something run for the response on a later tick (its observer, a listener) threw: the connection is cut. */
  faulted(err: unknown): void;
}

enum Body {
  /** HEAD, 1xx, 204, 304: no body bytes are written. */
  None,
  /** As given: by Content-Length, or until the connection closes. */
  Raw,
  Chunked,
}

/** Below this, a body chunk is copied next to its head or chunk framing so that both leave in one write. */
const COPY_LIMIT = 16 * 1024;
const LAST_CHUNK = '0\r\n\r\n';
const CHUNK_END_AND_LAST_CHUNK = '\r\n0\r\n\r\n';

export class Http1Response implements DownstreamResponse {
  readonly req: Http1Request;
  headersSent = false;
  writableFinished = false;
  destroyed = false;
  shouldKeepAlive: boolean;
  observer: ResponseObserver | undefined = undefined;
  /** Whether the head written let the connection stay open. */
  keptAlive = false;
  private readonly conn: ResponseConnection;
  /** The head, until it goes out with the first body bytes. */
  private head: string | undefined;
  private body = Body.Raw;
  private ended = false;
  private closed = false;
  /** Made when someone listens: a response forwarded by the proxy has its observer instead. */
  private emitter: EventEmitter | undefined;

  constructor(conn: ResponseConnection, req: Http1Request, keepAlive: boolean) {
    this.conn = conn;
    this.req = req;
    this.shouldKeepAlive = keepAlive;
  }

  on(event: ResponseEvent, listener: () => void): this {
    (this.emitter ??= new EventEmitter()).on(event, listener);
    return this;
  }

  once(event: ResponseEvent, listener: () => void): this {
    (this.emitter ??= new EventEmitter()).once(event, listener);
    return this;
  }

  off(event: ResponseEvent, listener: () => void): this {
    this.emitter?.off(event, listener);
    return this;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders | readonly string[] | ProvenFields): void {
    if (this.headersSent || this.ended) return;
    const seen: SeenHeaders = { date: false, length: false, transferEncoding: undefined, connection: undefined };
    if (headers instanceof ProvenFields) {
      seen.date = headers.hasDate;
      seen.length = headers.hasContentLength;
    } else if (isFlatList(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) look(seen, headers[i]!, headers[i + 1]!);
    } else {
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) look(seen, name, value);
      }
    }
    const { transferEncoding, connection } = seen;
    let untilClose = false;
    let addChunked = false;
    if (this.req.method === 'HEAD' || status < 200 || status === 204 || status === 304) this.body = Body.None;
    else if (transferEncoding !== undefined) {
      // The caller's own Transfer-Encoding: the codec frames the chunks it names; anything else runs to the close.
      if (endsInChunked(transferEncoding)) this.body = Body.Chunked;
      else untilClose = true;
    } else if (seen.length) this.body = Body.Raw;
    else if (this.req.httpVersionMinor === 1) {
      this.body = Body.Chunked;
      addChunked = true;
    } else untilClose = true;
    const keepAlive = this.shouldKeepAlive && !this.conn.closing && !untilClose && !hasToken(connection, 'close');
    // Serialized before anything changes, so that a header that cannot be written leaves the response unstarted.
    const fields =
      headers instanceof ProvenFields
        ? headers.lines
        : isFlatList(headers)
          ? serializeHeaderList(headers)
          : serializeHeaders(headers);
    let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n${fields}`;
    if (!seen.date) head += `Date: ${httpDate()}\r\n`;
    if (addChunked) head += 'Transfer-Encoding: chunked\r\n';
    if (!keepAlive && connection === undefined) head += 'Connection: close\r\n';
    this.head = `${head}\r\n`;
    this.keptAlive = keepAlive;
    this.headersSent = true;
  }

  write(chunk: Buffer): boolean {
    if (this.ended || this.conn.current !== this) return false;
    if (!this.headersSent) this.writeHead(200, {});
    const head = this.head ?? '';
    this.head = undefined;
    if (this.body === Body.None || chunk.length === 0) return head === '' || this.send(head, undefined, '');
    if (this.body === Body.Chunked) return this.send(head + chunkSizeLine(chunk.length), chunk, '\r\n');
    return this.send(head, chunk, '');
  }

  end(chunk?: Buffer | string): void {
    if (this.ended || this.conn.current !== this) return;
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // Ended without a head: the whole body is known, so it goes with its length rather than chunked.
    if (!this.headersSent) this.writeHead(200, { 'content-length': body?.length ?? 0 });
    const head = this.head ?? '';
    this.head = undefined;
    this.ended = true;
    if (this.body === Body.None || body === undefined || body.length === 0) {
      const tail = this.body === Body.Chunked ? LAST_CHUNK : '';
      if (head !== '' || tail !== '') this.send(head + tail, undefined, '');
    } else if (this.body === Body.Chunked) {
      this.send(head + chunkSizeLine(body.length), body, CHUNK_END_AND_LAST_CHUNK);
    } else this.send(head, body, '');
    process.nextTick(finishResponse, this);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    // After its end the connection is no longer this response's to cut.
    if (this.conn.current === this && !this.ended) destroyAfterHeld(this.conn.socket);
  }

  /** The connection closed under this response. */
  connectionClosed(): void {
    // An ended response finishes on its own tick: the bytes were handed over.
    if (this.ended) return;
    this.destroyed = true;
    this.emitClose();
  }

  /** end() was called: the whole response has been handed over (node:http's name). */
  get writableEnded(): boolean {
    return this.ended;
  }

  faulted(err: unknown): void {
    this.conn.faulted(err);
  }

  /** The connection's buffer emptied. */
  drained(): void {
    this.observer?.responseDrained();
    this.emitter?.emit('drain');
  }

  /** 'finish' then 'close', a tick after end(). */
  finish(): void {
    if (this.closed) return;
    this.writableFinished = true;
    this.observer?.responseFinished();
    this.emitter?.emit('finish');
    this.emitClose();
    this.conn.responseDone(this);
  }

  emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.observer?.responseClosed();
    this.emitter?.emit('close');
  }

  /** One write when the pieces are small; else corked, so they still leave together. */
  private send(prefix: string, body: Buffer | undefined, suffix: string): boolean {
    const socket = this.conn.socket;
    if (!socket.writable) return false;
    beforeWrite(socket);
    if (body === undefined) return socket.write(prefix + suffix, 'latin1');
    if (prefix === '' && suffix === '') return socket.write(body);
    if (body.length <= COPY_LIMIT) {
      const out = Buffer.allocUnsafe(prefix.length + body.length + suffix.length);
      out.write(prefix, 0, 'latin1');
      body.copy(out, prefix.length);
      if (suffix !== '') out.write(suffix, prefix.length + body.length, 'latin1');
      return socket.write(out);
    }
    socket.cork();
    if (prefix !== '') socket.write(prefix, 'latin1');
    let ok = socket.write(body);
    if (suffix !== '') ok = socket.write(suffix, 'latin1');
    socket.uncork();
    return ok;
  }
}

/** What writeHead looks for among the caller's headers. */
interface SeenHeaders {
  date: boolean;
  length: boolean;
  transferEncoding: string | undefined;
  connection: string | undefined;
}

function isFlatList(headers: OutgoingHttpHeaders | readonly string[]): headers is readonly string[] {
  return Array.isArray(headers);
}

/** Only the names the codec acts on are looked at, by length first: no lower-casing of every name. */
function look(seen: SeenHeaders, name: string, value: string | number | readonly string[]): void {
  switch (name.length) {
    case 4:
      if (is(name, 'date')) seen.date = true;
      break;
    case 10:
      if (is(name, 'connection')) {
        seen.connection = seen.connection === undefined ? String(value) : `${seen.connection}, ${String(value)}`;
      }
      break;
    case 14:
      if (is(name, 'content-length')) seen.length = true;
      break;
    case 17:
      if (is(name, 'transfer-encoding')) seen.transferEncoding = String(value);
      break;
  }
}

/** `name` is `lower` in any case (the caller's names are usually lower-case already). */
function is(name: string, lower: string): boolean {
  return name === lower || name.toLowerCase() === lower;
}

function finishResponse(res: Http1Response): void {
  try {
    res.finish();
  } catch (err) {
    res.faulted(err);
  }
}
