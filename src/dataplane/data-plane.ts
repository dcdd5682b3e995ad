// The proxy process's data plane: applies pushed configs (validate, compile, bind, swap) and serves traffic.
import type { AccessLogRecord } from '../observability/index.js';
import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';
import { AccessLogQueue } from './access-log-queue.js';
import { UpstreamPools } from './upstream-pools.js';
import { controlPlaneMatcher } from './destination-guard.js';
import { compileConfig, type CompiledConfig } from './compile-config.js';
import type { ConnectToRule } from './connect-to.js';
import { ListenerHandle, type ListenerHost } from './listener.js';
import { MirrorCounters } from './mirror.js';
import type { PlaneContext } from './request-handler.js';
import type { HostResolver } from './resolver.js';
import type { StreamInfo } from './stream-info.js';

export interface DataPlaneOptions {
  /** How hostnames (STRICT_DNS/LOGICAL_DNS clusters, ORIGINAL_DST hosts) resolve. */
  resolver: HostResolver;
  /** curl's --connect-to semantics, applied when dialing upstream. */
  connectTo?: readonly ConnectToRule[];
  /** One formatted line per request (no newline), a few milliseconds at most after the request completed. */
  onAccessLog?: (line: string, record: AccessLogRecord) => void;
  /** Degraded modes: a failed bind, a failed DNS lookup, ... */
  onWarning?: (message: string) => void;
  /** Injectable clock (ms); default Date.now. */
  now?: () => number;
  /** Injectable randomness in [0, 1) for weighted and endpoint picks, retry back-off, fault and mirror percentages. */
  random?: () => number;
  /** The private key (PEM) of the proxy's mesh identity; pushed configs carry its certificate. */
  identityKey?: string;
  /**
   * The control plane's addresses (the controller's API, the proxy's admin port): never dialled on behalf of a
   * request. Loopback names cover the loopback range; 0.0.0.0 / :: cover every address.
   */
  controlPlane?: readonly { readonly host: string; readonly port: number }[];
  /**
   * CAs trusted beyond the public ones, for TLS originated to a cluster that names no CA of its own (local mode's
   * stand-in sites). Node's public roots stay trusted.
   */
  trustedCas?: readonly string[];
  /** How long a request's headers may take to arrive before a 408; default Node's (60 s). */
  requestHeadersTimeoutMs?: number;
}

export type ApplyResult = { ok: true } | { ok: false; error: string };

/** How long a removed listener's in-flight requests may take before their connections are cut. */
const DRAIN_GRACE_MS = 5_000;
/**
 * How long a draining listener keeps accepting at least: requests a client routed here just before it learned
 * otherwise (a proxy that acknowledged a change can still have them in flight) are served, not refused.
 */
const DRAIN_MIN_MS = 1_000;
const CLOSE_GRACE_MS = 1_000;

export class DataPlane {
  private current: CompiledConfig | undefined;
  private handles = new Map<string, ListenerHandle>();
  /** Listeners a push removed, still draining. */
  private readonly retiring = new Set<ListenerHandle>();
  private readonly pools = new UpstreamPools();
  /** Mirroring's own counters: a failed mirror is counted here, never logged for the client. */
  readonly mirrors = new MirrorCounters();
  private readonly host: ListenerHost;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly random: () => number;
  private readonly identityKey: string | undefined;
  private readonly trustedCas: readonly string[];
  private readonly accessLog: AccessLogQueue | undefined;

  constructor(node: NodeIdentity, options: DataPlaneOptions) {
    const now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.identityKey = options.identityKey;
    this.trustedCas = options.trustedCas ?? [];
    const warn = (message: string): void => {
      try {
        options.onWarning?.(message);
      } catch {
        // a failing warning sink must not take a request down
      }
    };
    const accessLog = options.onAccessLog ? new AccessLogQueue(options.onAccessLog, warn) : undefined;
    this.accessLog = accessLog;
    const ctx: PlaneContext = {
      resolver: options.resolver,
      connectTo: options.connectTo ?? [],
      warn,
      pools: this.pools,
      nodeIp: node.ip,
      now,
      mirrors: this.mirrors,
      // A handful of listeners at most: a scan is cheaper than keeping a set in step with every apply.
      isOwnListener: (ip: string, port: number): boolean => {
        for (const h of this.handles.values()) {
          if (h.boundPort === port && (h.address === ip || h.address === '0.0.0.0' || h.address === '::')) return true;
        }
        return false;
      },
      isControlPlane: controlPlaneMatcher(options.controlPlane ?? []),
      completeStream(info: StreamInfo, config: CompiledConfig): void {
        // Metrics hook in here too: this is the one place a request ends.
        if (!config.accessLog.enabled || accessLog === undefined) return;
        try {
          const { line, encoding } = config.accessLog;
          const record = info.toRecord(now());
          if (line === undefined) accessLog.add(record, encoding);
          else
            accessLog.add(record, { line, headers: { request: info.requestHeaders, response: info.responseHeaders } });
        } catch (err) {
          warn(`access log: ${(err as Error).message}`);
        }
      },
      requestSent(): void {
        accessLog?.flush();
      },
    };
    this.host = {
      ctx,
      currentConfig: () => this.current,
      ...(options.requestHeadersTimeoutMs !== undefined
        ? { requestHeadersTimeoutMs: options.requestHeadersTimeoutMs }
        : {}),
    };
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  get listenerAddresses(): ReadonlyArray<{ name: string; address: string; port: number }> {
    return [...this.handles.values()].map((h) => ({ name: h.name, address: h.address, port: h.boundPort }));
  }

  /** Pushes are applied one at a time, in arrival order. */
  apply(config: ProxyConfig): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(config));
    this.queue = run.catch(() => {});
    return run;
  }

  private async applyNow(config: ProxyConfig): Promise<ApplyResult> {
    if (this.closed) return { ok: false, error: 'the data plane is closed' };
    let compiled: CompiledConfig;
    try {
      compiled = compileConfig(config, this.host.ctx.now, this.random, this.identityKey, this.trustedCas);
    } catch (err) {
      return { ok: false, error: `config ${String(config?.version)} rejected: ${(err as Error).message}` };
    }

    const next = new Map<string, ListenerHandle>();
    const leaving = new Set(this.handles.values());
    const renames: [ListenerHandle, string][] = [];
    const revived: [ListenerHandle, string][] = [];
    const opened: ListenerHandle[] = [];
    for (const l of compiled.listeners.values()) {
      const same = this.handles.get(l.name);
      if (same && same.address === l.address && same.requestedPort === l.port) {
        next.set(l.name, same);
        leaving.delete(same);
      }
    }
    for (const l of compiled.listeners.values()) {
      if (next.has(l.name)) continue;
      // A renamed listener on the same fixed address and port keeps its socket rather than fail to bind.
      const reuse =
        l.port === 0 ? undefined : [...leaving].find((h) => h.address === l.address && h.requestedPort === l.port);
      if (reuse) {
        next.set(l.name, reuse);
        leaving.delete(reuse);
        renames.push([reuse, l.name]);
        continue;
      }
      // Added back while an earlier push's removal is still draining it: the same socket serves on.
      const draining =
        l.port === 0
          ? undefined
          : [...this.retiring].find((h) => h.address === l.address && h.requestedPort === l.port);
      if (draining) {
        this.retiring.delete(draining);
        next.set(l.name, draining);
        revived.push([draining, l.name]);
        continue;
      }
      try {
        const handle = await ListenerHandle.open(l.name, l.address, l.port, this.host, compiled);
        opened.push(handle);
        next.set(l.name, handle);
      } catch (err) {
        await Promise.all(opened.map((h) => h.close(0)));
        const message = `listener ${l.name} (${l.address}:${l.port}): cannot bind: ${(err as Error).message}`;
        this.host.ctx.warn(`config ${compiled.version} rejected: ${message}`);
        return { ok: false, error: message };
      }
    }

    // The swap: synchronous, so no request observes a half-applied config.
    const previous = this.current;
    for (const h of leaving) h.retired = previous;
    for (const [h, name] of renames) h.name = name;
    for (const [h, name] of revived) h.revive(name);
    this.current = compiled;
    this.handles = next;
    for (const h of opened) h.opening = undefined;
    this.pools.retainOnly(new Set(compiled.clusters.keys()));
    // Removed listeners drain as Envoy's do: they still serve stragglers for a moment, what is in flight finishes
    // and its connection closes after it, so no connection of a retired listener lingers in a client's pool.
    for (const h of leaving) {
      this.retiring.add(h);
      void h.drain(DRAIN_GRACE_MS, DRAIN_MIN_MS).then(() => this.retiring.delete(h));
    }
    return { ok: true };
  }

  /**
   * Graceful shutdown (Envoy's drain): every listener keeps serving what is in flight and what still arrives,
   * closing each connection after its response and idle ones at once, until none is left or `graceMs` has passed.
   * Then the data plane is closed. Call it once the proxy is no longer an endpoint anywhere.
   */
  async drain(graceMs: number): Promise<void> {
    await Promise.all([...this.handles.values()].map((h) => h.drain(graceMs, Math.min(DRAIN_MIN_MS, graceMs))));
    await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const handles = [...this.handles.values(), ...this.retiring];
    this.handles = new Map();
    this.retiring.clear();
    await Promise.all(handles.map((h) => h.close(CLOSE_GRACE_MS)));
    this.pools.destroyAll();
    this.accessLog?.close();
  }

  /** Writes the access-log lines still waiting (the process is exiting). */
  flushAccessLog(): void {
    this.accessLog?.flush();
  }
}
