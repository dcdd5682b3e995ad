// A cluster's upstream connections: kept per endpoint (address, port, local address, SNI), reused last-in
// first-out so that the fewest connections stay warm, and capped across all endpoints by the cluster's
// maxConnections with exchanges beyond it waiting in arrival order.
import { ClientExchange, type Exchange, type ExchangeEvents, type ExchangeOptions, failSoon } from './client.js';
import { type ClientTls, type ConnectionOwner, UpstreamConnection } from './connection.js';

export type { Exchange, ExchangeEvents, ExchangeOptions, HeaderLines } from './client.js';
export type { ClientTls } from './connection.js';

export interface PoolSettings {
  /** Connections open at once across all endpoints (Envoy's maxConnections); Infinity for none. Beyond it,
   *  exchanges wait FIFO for a connection to be free or closed. */
  readonly maxConnections: number;
  /** Set when the cluster originates TLS. */
  readonly tls?: ClientTls;
}

/**
 * One endpoint's connections: the idle ones are a stack, the most recently used on top. An endpoint is an address
 * and port, and the local address and SNI its connections were made with ('' for none).
 */
class Endpoint implements ConnectionOwner {
  readonly idle: UpstreamConnection[] = [];
  /** Open connections to the endpoint, idle or busy (the endpoint is forgotten when none are left). */
  connections = 0;

  constructor(
    private readonly pool: UpstreamPool,
    readonly ip: string,
    readonly port: number,
    readonly localAddress: string,
    readonly servername: string,
  ) {}

  serves(o: ExchangeOptions): boolean {
    return (
      this.port === o.port && this.localAddress === (o.localAddress ?? '') && this.servername === (o.servername ?? '')
    );
  }

  released(conn: UpstreamConnection): void {
    this.pool.released(this, conn);
  }

  gone(conn: UpstreamConnection): void {
    this.pool.gone(this, conn);
  }
}

export class UpstreamPool {
  /**
   * Endpoints by address. The address is a string the cluster's targets keep (its hash computed once), so finding
   * a request's endpoint makes no key; an address has one endpoint or a few (ports, local addresses, SNIs).
   */
  private readonly endpoints = new Map<string, Endpoint[]>();
  private readonly connections = new Set<UpstreamConnection>();
  private idleCount = 0;
  /** Exchanges waiting for a connection, oldest at `waitingHead`. */
  private waiting: ClientExchange[] = [];
  private waitingHead = 0;
  /** Inside serveWaiting: closing an idle connection to make room must not start another round. */
  private serving = false;
  private retired = false;
  private destroyed = false;

  constructor(private readonly settings: PoolSettings) {}

  exchange(options: ExchangeOptions, events: ExchangeEvents): Exchange {
    const ex = new ClientExchange(options, events);
    if (ex.headError !== undefined) failSoon(ex, ex.headError, 'exchange');
    else if (this.destroyed) failSoon(ex, new Error('the upstream pool is closed'), 'connect');
    else {
      // Behind others still waiting (those destroyed while waiting are passed over first): arrival order.
      if (this.waitingHead < this.waiting.length) this.serveWaiting();
      if (this.waitingHead < this.waiting.length || !this.assign(ex)) this.waiting.push(ex);
    }
    return ex;
  }

  /** Closes the idle connections to ip:port now (one turned out closed by its peer). */
  dropIdle(ip: string, port: number): void {
    for (const endpoint of this.endpoints.get(ip) ?? []) {
      if (endpoint.port === port) for (const conn of [...endpoint.idle]) conn.close();
    }
  }

  /** No new exchanges expected: idle connections close now, busy ones when their exchange ends. */
  retire(): void {
    this.retired = true;
    for (const list of this.endpoints.values()) {
      for (const endpoint of list) for (const conn of [...endpoint.idle]) conn.close();
    }
  }

  /** Everything closes now: exchanges in flight fail, waiting ones too. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.retired = true;
    const closed = new Error('the upstream pool is closed');
    const waiting = this.waiting.slice(this.waitingHead);
    this.waiting = [];
    this.waitingHead = 0;
    for (const ex of waiting) if (ex.state === 'waiting') failSoon(ex, closed, 'connect');
    for (const conn of [...this.connections]) conn.fail(closed);
  }

  /** Open connections, idle or busy (for tests and diagnostics). */
  get size(): number {
    return this.connections.size;
  }

  /** Idle connections (for tests and diagnostics). */
  get idle(): number {
    return this.idleCount;
  }

  released(endpoint: Endpoint, conn: UpstreamConnection): void {
    if (this.retired) {
      conn.close();
      return;
    }
    endpoint.idle.push(conn);
    this.idleCount++;
    conn.becomeIdle();
    this.serveWaiting();
  }

  gone(endpoint: Endpoint, conn: UpstreamConnection): void {
    if (!this.connections.delete(conn)) return;
    endpoint.connections--;
    const i = endpoint.idle.lastIndexOf(conn);
    if (i >= 0) {
      endpoint.idle.splice(i, 1);
      this.idleCount--;
    }
    if (endpoint.connections === 0) this.forget(endpoint);
    this.serveWaiting();
  }

  /** Gives the exchange a connection: the endpoint's most recently used idle one, else a new one if allowed. */
  private assign(ex: ClientExchange): boolean {
    const o = ex.options;
    let endpoint = this.endpointFor(o);
    const reusable = endpoint?.idle.pop();
    if (reusable !== undefined) {
      this.idleCount--;
      reusable.take(ex);
      return true;
    }
    if (this.connections.size >= this.settings.maxConnections) {
      if (this.idleCount === 0) return false;
      // At the cap with a connection idle elsewhere: it makes room (Envoy's pools are per host, the cap is not).
      this.closeLeastRecentIdle();
    }
    endpoint ??= this.addEndpoint(o);
    let conn: UpstreamConnection;
    try {
      conn = new UpstreamConnection(endpoint, o, this.settings.tls, ex);
    } catch (err) {
      // Options net or tls refuse at once (a local address that is not one): the connect failed.
      failSoon(ex, err as Error, 'connect');
      if (endpoint.connections === 0) this.forget(endpoint);
      return true;
    }
    this.connections.add(conn);
    endpoint.connections++;
    return true;
  }

  private endpointFor(o: ExchangeOptions): Endpoint | undefined {
    const list = this.endpoints.get(o.ip);
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) if (list[i]!.serves(o)) return list[i];
    return undefined;
  }

  private addEndpoint(o: ExchangeOptions): Endpoint {
    const endpoint = new Endpoint(this, o.ip, o.port, o.localAddress ?? '', o.servername ?? '');
    const list = this.endpoints.get(o.ip);
    if (list === undefined) this.endpoints.set(o.ip, [endpoint]);
    else list.push(endpoint);
    return endpoint;
  }

  private forget(endpoint: Endpoint): void {
    const list = this.endpoints.get(endpoint.ip);
    if (list === undefined) return;
    const i = list.indexOf(endpoint);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.endpoints.delete(endpoint.ip);
  }

  private closeLeastRecentIdle(): void {
    for (const list of this.endpoints.values()) {
      for (const endpoint of list) {
        const oldest = endpoint.idle[0];
        if (oldest !== undefined) {
          oldest.close();
          return;
        }
      }
    }
  }

  /** Hands free connections (or room for new ones) to waiting exchanges, oldest first. */
  private serveWaiting(): void {
    if (this.serving) return;
    this.serving = true;
    const waiting = this.waiting;
    while (this.waitingHead < waiting.length) {
      const ex = waiting[this.waitingHead]!;
      // Destroyed while waiting.
      if (ex.state === 'waiting' && !this.assign(ex)) break;
      this.waitingHead++;
    }
    if (this.waitingHead === waiting.length) {
      waiting.length = 0;
      this.waitingHead = 0;
    }
    this.serving = false;
  }
}
