// One upstream connection: dials (TCP, then TLS when the cluster originates it), writes the requests of the
// exchanges it carries one after another, and reads their responses off the socket. Its listeners are set once,
// when it is made; an exchange only points the connection at itself.
import net, { type Socket } from 'node:net';
import tls, { type ConnectionOptions, type SecureContext } from 'node:tls';
import { formatAddress } from '../stream-info.js';
import type { ClientExchange, ExchangeOptions, FailurePhase } from './client.js';
import { ChunkedDecoder } from './chunked.js';
import { findHeadEnd, parseResponseHead, type ResponseHead, WireError } from './wire.js';
import { destroyAfterHeld } from './write-turn.js';

/** TLS the cluster originates. */
export interface ClientTls {
  readonly secureContext: SecureContext;
  readonly rejectUnauthorized: boolean;
}

/** The pool a connection belongs to. */
export interface ConnectionOwner {
  /** The exchange ended and the connection can carry another request. */
  released(conn: UpstreamConnection): void;
  /** The connection closed, or left with an upgraded exchange: it is no longer the pool's. */
  gone(conn: UpstreamConnection): void;
}

/** The longest response head read (node:http's default maximum header size is 16 KiB; Envoy's is 60 KiB). */
const MAX_RESPONSE_HEAD = 60 * 1024;
/** Envoy's upstream idle timeout. */
const UPSTREAM_IDLE_TIMEOUT_MS = 60 * 60 * 1000;
/** TCP keep-alive on upstream connections, after Node's agent default delay (keepAliveMsecs). */
const TCP_KEEPALIVE_DELAY_MS = 1000;
/** How long before a server's announced `Keep-Alive: timeout` an idle connection is closed (Node's agent's). */
const KEEP_ALIVE_HINT_MARGIN_MS = 1000;
const KEEP_ALIVE_TIMEOUT = /^timeout=(\d+)/;
/**
 * Reads on an upstream connection go into this connection's own slab, each read after the last: a chunk handed on
 * (a body piece written to the client, held while it drains) is never written over, and a slab is let go once
 * nothing points into it. A new slab when less than READ_MIN is left: a small one, as most responses are small and
 * an idle connection holds the rest of its slab; a large one while reads fill what they are given (a large body).
 */
const READ_SLAB_SMALL = 16 * 1024;
const READ_SLAB_LARGE = 64 * 1024;
const READ_MIN = 2 * 1024;

type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

export class UpstreamConnection {
  readonly socket: Socket;
  /** "ip:port" of our end, worked out once when the connection comes up. */
  local = '';
  /** The exchange the connection carries; undefined while idle in the pool. */
  exchange: ClientExchange | undefined;
  /** What a failure now means to the exchange: still dialing, handshaking, or an open connection breaking. */
  private phase: FailurePhase = 'connect';
  private closed = false;
  /** How long the connection may idle in the pool, from the last response's hint (or the default). */
  private idleMs = UPSTREAM_IDLE_TIMEOUT_MS;
  /** When the connection last went idle (the monotonic clock: a wall-clock step must not stretch an idle period). */
  private idleSince = 0;
  /** The idle timer, armed while idle; it is not re-armed per request, only checked (see onIdleTimer). */
  private idleTimer: NodeJS.Timeout | undefined;
  private idleTimerDue = 0;
  /** Whether the connection may carry another request after the current response, and how long it may idle. */
  private keepAlive = false;
  private nextIdleMs = UPSTREAM_IDLE_TIMEOUT_MS;
  /** The start of a response head that has not fully arrived. */
  private partialHead: Buffer | undefined;
  private framing: BodyFraming = 'none';
  private bodyLeft = 0;
  private decoder: ChunkedDecoder | undefined;
  /** The slab reads go into (`onread`), and how much of it reads have filled. */
  private slab: Buffer | undefined;
  private slabUsed = 0;
  /** The last read filled the buffer it was given: more is likely waiting. */
  private fullReads = false;
  /** After a 101: reads go to the socket's own stream, which the tunnel reads. */
  private handedOver = false;

  constructor(
    readonly owner: ConnectionOwner,
    o: ExchangeOptions,
    tlsSettings: ClientTls | undefined,
    first: ClientExchange,
  ) {
    this.exchange = first;
    // Before dialing: an error the socket reports on the next tick then comes after the exchange's onSocket.
    first.assign(this, false);
    // Reads skip the stream layer (a push, a 'data' event, a buffer object and a tick per read): each read, of
    // plaintext or of what TLS decrypted, is handed straight to onRead.
    const onread = { buffer: this.readBuffer, callback: this.onRead };
    const socket = tlsSettings
      ? tls.connect(tlsOptions(o, tlsSettings, onread))
      : net.connect({ host: o.ip, port: o.port, localAddress: o.localAddress, onread });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    socket.on('error', this.onError);
    socket.on('connect', this.onConnect);
    if (tlsSettings) socket.on('secureConnect', this.onSecureConnect);
    // Flowing, though nothing is pushed: so that the end of the stream is seen ('end').
    socket.resume();
    socket.on('end', this.onEof);
    socket.on('close', this.onEof);
    socket.on('drain', this.onDrain);
  }

  /** An idle connection from the pool takes on an exchange. */
  take(ex: ClientExchange): void {
    this.exchange = ex;
    this.socket.ref();
    ex.assign(this, true);
  }

  /**
   * Into the pool: the process may exit with it open, and it closes after its idle timeout. The timer is our own
   * rather than the socket's: a socket timeout is re-armed on every read and write, which costs more per request
   * than the request's own bookkeeping. Ours is armed when the connection first goes idle and, when it fires,
   * closes the connection if it has idled long enough, or waits for the rest.
   */
  becomeIdle(): void {
    const socket = this.socket;
    socket.unref();
    const now = performance.now();
    this.idleSince = now;
    this.idleMs = this.nextIdleMs;
    const due = now + this.idleMs;
    // A timer armed for later than a shorter hint now allows is brought forward.
    if (this.idleTimer === undefined || this.idleTimerDue > due) this.armIdleTimer(due, now);
    // A consumer that paused the last body may have left the socket paused: an idle one must see an EOF.
    socket.resume();
  }

  private armIdleTimer(due: number, now: number): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimerDue = due;
    this.idleTimer = setTimeout(this.onIdleTimer, Math.max(0, due - now));
    this.idleTimer.unref();
  }

  /** The idle timeout only closes idle connections: a request in flight has timeouts of its own. */
  private readonly onIdleTimer = (): void => {
    this.idleTimer = undefined;
    if (this.closed || this.exchange !== undefined) return; // busy: armed again when it next goes idle
    const now = performance.now();
    const due = this.idleSince + this.idleMs;
    if (now >= due) this.close();
    else this.armIdleTimer(due, now);
  };

  /** The exchange's response is complete: the connection goes back to the pool, or closes. */
  exchangeDone(ex: ClientExchange): void {
    if (this.exchange !== ex) return;
    this.exchange = undefined;
    if (!this.keepAlive || !ex.requestWhole()) this.close();
    else this.owner.released(this);
  }

  /** Closes the connection; the exchange on it, if any, hears nothing (it is done or being destroyed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.exchange = undefined;
    this.clearIdleTimer();
    destroyAfterHeld(this.socket);
    this.owner.gone(this);
  }

  /** Closes the connection and fails the exchange on it with err. */
  fail(err: Error): void {
    if (this.closed) return;
    const ex = this.exchange;
    const phase = this.phase;
    this.close();
    ex?.broken(err, phase);
  }

  private readonly onError = (err: Error): void => this.fail(err);

  private readonly onConnect = (): void => {
    if (this.socket instanceof tls.TLSSocket) this.phase = 'tls';
    else this.opened();
  };

  private readonly onSecureConnect = (): void => this.opened();

  private opened(): void {
    this.phase = 'exchange';
    this.local = formatAddress(this.socket.localAddress, this.socket.localPort) ?? '';
    const ex = this.exchange;
    if (ex !== undefined) ex.send(this);
  }

  private readonly onDrain = (): void => this.exchange?.drained();

  private clearIdleTimer(): void {
    if (this.idleTimer === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private readonly onEof = (): void => {
    if (this.closed) return;
    const ex = this.exchange;
    if (ex !== undefined && ex.state === 'body' && this.framing === 'close') {
      // The body ran until the connection closed: that is its end.
      this.close();
      ex.bodyEnded();
      return;
    }
    this.fail(ex?.state === 'body' ? connReset('aborted') : connReset('socket hang up'));
  };

  private readonly onData = (chunk: Buffer): void => {
    const ex = this.exchange;
    if (ex === undefined || (ex.state !== 'sending' && ex.state !== 'body')) {
      // Bytes on an idle connection answer nothing we sent: the connection cannot be trusted with a request.
      this.close();
      return;
    }
    try {
      if (ex.state === 'sending') this.readHead(ex, chunk);
      else this.readBody(ex, chunk, 0);
    } catch (err) {
      // Parse errors fail the exchange where they arise; what lands here was thrown by the exchange's consumer.
      ex.faulted(err);
    }
  };

  private readonly onPiece = (piece: Buffer): void => this.exchange?.push(piece);

  /** Where the next read goes: the rest of the slab, past every earlier read. */
  private readonly readBuffer = (): Buffer => {
    if (this.slab === undefined || this.slab.length - this.slabUsed < READ_MIN) {
      this.slab = Buffer.allocUnsafe(this.fullReads ? READ_SLAB_LARGE : READ_SLAB_SMALL);
      this.slabUsed = 0;
    }
    return this.slab.subarray(this.slabUsed);
  };

  /** A read (`onread`): `buf` is the last readBuffer(), filled from its start. */
  private readonly onRead = (nread: number, buf: Buffer): boolean => {
    this.slabUsed += nread;
    this.fullReads = nread === buf.length;
    const chunk = buf.subarray(0, nread);
    // Handed over to a tunnel: the socket's stream carries the bytes on, and its flow control pauses reading.
    if (this.handedOver) return this.socket.push(chunk);
    this.onData(chunk);
    return true;
  };

  private readHead(ex: ClientExchange, chunk: Buffer): void {
    let buf = chunk;
    if (this.partialHead !== undefined) {
      buf = Buffer.concat([this.partialHead, chunk]);
      this.partialHead = undefined;
    }
    let from = 0;
    for (;;) {
      let end: number;
      let head: ResponseHead;
      try {
        end = findHeadEnd(buf, from, MAX_RESPONSE_HEAD);
        if (end < 0) {
          this.partialHead = from === 0 ? buf : buf.subarray(from);
          return;
        }
        head = parseResponseHead(buf, from, end, ex.options.method);
      } catch (err) {
        this.fail(asWireError(err));
        return;
      }
      if (head.statusCode === 101) {
        this.upgrade(ex, head, buf.subarray(end));
        return;
      }
      if (head.statusCode >= 200) {
        this.responseHead(ex, head, buf, end);
        return;
      }
      // 100 Continue, 102, 103: informational, the final response follows.
      from = end;
      if (from === buf.length) return;
    }
  }

  private responseHead(ex: ClientExchange, head: ResponseHead, buf: Buffer, end: number): void {
    this.keepAlive = head.keepAlive;
    this.nextIdleMs = UPSTREAM_IDLE_TIMEOUT_MS;
    const hint = head.keepAliveHint;
    const seconds = hint !== undefined ? KEEP_ALIVE_TIMEOUT.exec(hint)?.[1] : undefined;
    if (seconds !== undefined) {
      // A second before the server would close it, so that it is never reused just as the server closes it.
      const ms = Number(seconds) * 1000 - KEEP_ALIVE_HINT_MARGIN_MS;
      if (ms <= 0) this.keepAlive = false;
      else this.nextIdleMs = Math.min(ms, UPSTREAM_IDLE_TIMEOUT_MS);
    }
    ex.responded(head.statusCode, head.statusMessage, head.rawHeaders);
    const framing = head.framing;
    this.framing = framing.kind;
    switch (framing.kind) {
      case 'none':
        // Bytes past a response without a body answer nothing we sent.
        if (end < buf.length) this.keepAlive = false;
        // Complete before the consumer sees it: the connection is free for the next request at once.
        ex.bodyEnded();
        ex.events.onResponse(ex);
        return;
      case 'length':
        this.bodyLeft = framing.length;
        break;
      case 'chunked':
        this.decoder = new ChunkedDecoder();
        break;
      case 'close':
        break;
    }
    ex.hasBody = true;
    ex.events.onResponse(ex);
    if (end < buf.length && this.exchange === ex) this.readBody(ex, buf, end);
  }

  private readBody(ex: ClientExchange, buf: Buffer, offset: number): void {
    switch (this.framing) {
      case 'length': {
        const n = Math.min(this.bodyLeft, buf.length - offset);
        this.bodyLeft -= n;
        ex.push(offset === 0 && n === buf.length ? buf : buf.subarray(offset, offset + n));
        if (this.bodyLeft === 0 && this.exchange === ex) this.bodyRead(ex, offset + n < buf.length);
        return;
      }
      case 'chunked': {
        let end: number;
        try {
          end = this.decoder!.decode(buf, offset, this.onPiece);
        } catch (err) {
          this.fail(asWireError(err));
          return;
        }
        if (end >= 0 && this.exchange === ex) this.bodyRead(ex, end < buf.length);
        return;
      }
      case 'close':
        ex.push(offset === 0 ? buf : buf.subarray(offset));
        return;
      case 'none':
        return;
    }
  }

  private bodyRead(ex: ClientExchange, extraBytes: boolean): void {
    // Bytes past the body answer nothing we sent.
    if (extraBytes) this.keepAlive = false;
    this.decoder = undefined;
    ex.bodyEnded();
  }

  /** A 101: the socket leaves the pool with the exchange; what was read past the head goes with it. */
  private upgrade(ex: ClientExchange, head: ResponseHead, rest: Buffer): void {
    if (!ex.upgradeRequested) {
      this.fail(new WireError('malformed', 'a 101 response to a request that did not ask to upgrade'));
      return;
    }
    const socket = this.socket;
    this.closed = true;
    this.exchange = undefined;
    socket.off('error', this.onError);
    socket.off('connect', this.onConnect);
    socket.off('secureConnect', this.onSecureConnect);
    socket.off('end', this.onEof);
    socket.off('close', this.onEof);
    socket.off('drain', this.onDrain);
    this.handedOver = true;
    this.clearIdleTimer();
    this.owner.gone(this);
    ex.upgraded(head.statusCode, head.statusMessage, head.rawHeaders);
    ex.events.onUpgrade(ex, socket, rest);
  }
}

/** tls.connect hands these to the TCP connect too, and takes `onread` as net.connect does; its type leaves both out. */
type TlsConnectOptions = ConnectionOptions & { localAddress?: string; onread: net.OnReadOpts };

function tlsOptions(o: ExchangeOptions, settings: ClientTls, onread: net.OnReadOpts): TlsConnectOptions {
  const options: TlsConnectOptions = {
    host: o.ip,
    port: o.port,
    onread,
    secureContext: settings.secureContext,
    rejectUnauthorized: settings.rejectUnauthorized,
  };
  if (o.localAddress !== undefined) options.localAddress = o.localAddress;
  // No SNI when there is no name (an IP address must not be sent as one).
  if (o.servername) options.servername = o.servername;
  // Omitted rather than undefined: tls.connect would take undefined over its own default check.
  if (o.checkServerIdentity !== undefined) options.checkServerIdentity = o.checkServerIdentity;
  return options;
}

/** node:http's error for a connection that closed before the response (or its body) ended. */
function connReset(message: string): Error {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = 'ECONNRESET';
  return err;
}

/** Parse errors are the upstream's; anything else is a fault here and must not pass for one. */
function asWireError(err: unknown): Error {
  if (err instanceof WireError) return err;
  throw err;
}
