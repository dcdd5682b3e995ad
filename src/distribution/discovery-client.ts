// The proxy side of distribution: holds one discovery stream to the controller, hands each config to the data
// plane, and ACKs or NACKs it. When the controller is away it retries with capped backoff; the data plane keeps
// serving its last good config meanwhile.
import http from 'node:http';
import { createGunzip } from 'node:zlib';
import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';
import { DecodeError, decodeJson } from './decode.js';
import {
  ACK_PATH,
  DISCOVERY_PATH,
  DRAIN_PATH,
  decodeDrainResponse,
  decodeServerMessage,
  LineSplitter,
  PING_INTERVAL_MS,
  type AckRequest,
  type DiscoveryRequest,
  type ServerMessage,
} from './protocol.js';

export type ApplyResult = { ok: true } | { ok: false; error: string };

export interface DiscoveryClientOptions {
  /** Base URL of the controller, e.g. http://127.0.0.1:15010 */
  readonly controller: string;
  readonly node: NodeIdentity;
  /** The proxy credential (the controller's proxy join token), sent as a bearer token. */
  readonly token: string;
  readonly apply: (config: ProxyConfig) => Promise<ApplyResult>;
  readonly currentVersion?: () => string | undefined;
  readonly onEvent?: (event: DiscoveryEvent) => void;
  /** The public key (PEM) of the proxy's mesh identity, for the controller's CA to certify. */
  readonly publicKey?: string;
}

export type DiscoveryEvent =
  | { readonly type: 'connected' }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'applied'; readonly version: string }
  | { readonly type: 'rejected'; readonly version: string; readonly error: string };

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

export class DiscoveryClient {
  private request: http.ClientRequest | undefined;
  private closed = false;
  private backoffMs = MIN_BACKOFF_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Configs are applied one at a time, in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly base: URL;
  /** The session of the current stream: ACKs carry it, and a reconnect presents it to replace a stale stream. */
  private session: string | undefined;

  constructor(private readonly options: DiscoveryClientOptions) {
    this.base = new URL(options.controller);
  }

  start(): void {
    this.connect();
  }

  /**
   * Asks the controller to take this proxy out of every Service's endpoints, and resolves once the other proxies
   * have acknowledged that (true), or with false when they did not in time, the controller did not answer within
   * `timeoutMs`, or there is no stream to drain. The stream stays open: pushes still arrive while draining.
   */
  drain(timeoutMs: number): Promise<boolean> {
    const session = this.session;
    if (session === undefined || this.closed) return Promise.resolve(false);
    const payload = JSON.stringify({ nodeId: this.options.node.id, session });
    return new Promise((resolve) => {
      const req = http.request(new URL(DRAIN_PATH, this.base), {
        method: 'POST',
        headers: this.headers(payload),
        timeout: timeoutMs,
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text = (text + chunk).slice(0, 2_000)));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 && decodeJson(decodeDrainResponse, text, 'drain response').drained);
          } catch {
            resolve(false);
          }
        });
        res.on('error', () => resolve(false));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end(payload);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    this.request?.destroy();
  }

  private connect(): void {
    if (this.closed) return;
    const body: DiscoveryRequest = {
      node: this.options.node,
      currentVersion: this.options.currentVersion?.(),
      resume: this.session,
      ...(this.options.publicKey !== undefined ? { publicKey: this.options.publicKey } : {}),
    };
    const payload = JSON.stringify(body);
    const req = http.request(new URL(DISCOVERY_PATH, this.base), {
      method: 'POST',
      headers: { ...this.headers(payload), 'accept-encoding': 'gzip' },
      agent: false,
    });
    this.request = req;
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        // The controller says why (a bad token, an id already connected): keep its words for the operator.
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text = (text + chunk).slice(0, 2_000)));
        res.on('end', () => this.retry(`controller answered ${res.statusCode}: ${errorOf(text)}`));
        res.on('error', () => this.retry(`controller answered ${res.statusCode}`));
        return;
      }
      this.backoffMs = MIN_BACKOFF_MS;
      this.options.onEvent?.({ type: 'connected' });
      this.armWatchdog();
      const lines = new LineSplitter();
      // Any bytes, even compressed ones not yet a whole message, show the stream is alive.
      res.on('data', () => this.armWatchdog());
      const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
      body.setEncoding('utf8');
      body.on('data', (chunk: string) => {
        let complete: string[];
        try {
          complete = lines.push(chunk);
        } catch (err) {
          this.retry((err as Error).message);
          return;
        }
        for (const line of complete) this.onLine(line);
      });
      body.on('end', () => this.retry('stream ended'));
      body.on('error', (err) => this.retry(err.message));
      if (body !== res) res.on('error', (err) => this.retry(err.message));
    });
    req.on('error', (err) => this.retry(err.message));
    req.end(payload);
  }

  /** A stream with no bytes (not even pings) for three ping intervals is dead: reconnect. */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.request?.destroy(new Error('no ping from controller')), 3 * PING_INTERVAL_MS);
    this.watchdog.unref();
  }

  private retry(reason: string): void {
    clearTimeout(this.watchdog);
    if (this.closed || this.retryTimer) return;
    this.request?.destroy();
    this.request = undefined;
    this.options.onEvent?.({ type: 'disconnected', reason });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  private headers(payload: string): http.OutgoingHttpHeaders {
    return {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      authorization: `Bearer ${this.options.token}`,
    };
  }

  private onLine(line: string): void {
    let message: ServerMessage;
    try {
      message = decodeServerMessage(JSON.parse(line), 'message');
    } catch (err) {
      const why = err instanceof DecodeError ? err.message : 'not JSON';
      this.options.onEvent?.({ type: 'disconnected', reason: `malformed message from controller (${why})` });
      return;
    }
    switch (message.type) {
      case 'session':
        this.session = message.session;
        return;
      case 'config': {
        const session = this.session;
        if (session === undefined) return;
        this.queue = this.queue.then(() => this.applyAndAck(session, message.version, message.config));
        return;
      }
      case 'ping':
        return;
    }
  }

  private async applyAndAck(session: string, version: string, config: ProxyConfig): Promise<void> {
    let result: ApplyResult;
    try {
      result = await this.options.apply(config);
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    this.options.onEvent?.(
      result.ok ? { type: 'applied', version } : { type: 'rejected', version, error: result.error },
    );
    const nodeId = this.options.node.id;
    const ack: AckRequest = result.ok
      ? { nodeId, session, version, ok: true }
      : { nodeId, session, version, ok: false, error: result.error };
    await this.sendAck(ack);
  }

  private sendAck(ack: AckRequest): Promise<void> {
    const payload = JSON.stringify(ack);
    return new Promise((resolve) => {
      const req = http.request(new URL(ACK_PATH, this.base), { method: 'POST', headers: this.headers(payload) });
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      // A lost ACK is recovered on reconnect: the proxy reports its version and is pushed again.
      req.on('error', () => resolve());
      req.end(payload);
    });
  }
}

function errorOf(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string')
      return body.error;
  } catch {
    // not JSON: the text itself
  }
  return text.trim() || '(no message)';
}
