// One keep-alive connection pool per cluster, kept across config pushes while the cluster exists (so a push
// does not drop warm connections) and retired when a push removes it.
import { Agent } from 'node:http';
import { Agent as TlsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CompiledCluster } from './compile-clusters.js';

const UPSTREAM_IDLE_TIMEOUT_MS = 60 * 60 * 1000;
/** TCP keep-alive on pooled connections, after Node's agent default delay (keepAliveMsecs). */
const TCP_KEEPALIVE_DELAY_MS = 1000;
/** How long before a server's announced `Keep-Alive: timeout` a pooled connection is closed (Node's agent's). */
const KEEP_ALIVE_HINT_MARGIN_MS = 1000;

interface Pooled {
  readonly agent: Agent;
  readonly maxConnections: number | undefined;
  /** The TLS settings the pool's connections were made with: a push that changes them starts a new pool. */
  readonly tls: CompiledCluster['tls'];
}

export class AgentPool {
  private readonly pools = new Map<string, Pooled>();

  /** The cluster's pool: TLS connections (with the cluster's CA and client certificate) when it originates TLS. */
  get(cluster: CompiledCluster): Agent {
    const existing = this.pools.get(cluster.name);
    if (existing && existing.maxConnections === cluster.maxConnections && sameTls(existing.tls, cluster.tls)) {
      return existing.agent;
    }
    if (existing) retire(existing.agent);
    // No agent `timeout`: the idle timeout is kept by keepIdleTimeout below instead.
    const options = {
      keepAlive: true,
      maxTotalSockets: cluster.maxConnections ?? Infinity,
      scheduling: 'lifo',
    } as const;
    const tls = cluster.tls?.ok ? cluster.tls : undefined;
    const agent = tls
      ? new TlsAgent({
          ...options,
          secureContext: tls.secureContext,
          rejectUnauthorized: tls.rejectUnauthorized,
        })
      : new Agent(options);
    keepIdleTimeout(agent);
    this.pools.set(cluster.name, { agent, maxConnections: cluster.maxConnections, tls: cluster.tls });
    return agent;
  }

  /** Retires the pools of clusters no longer configured; requests using them finish first. */
  retainOnly(clusterNames: ReadonlySet<string>): void {
    for (const [name, pooled] of this.pools) {
      if (clusterNames.has(name)) continue;
      this.pools.delete(name);
      retire(pooled.agent);
    }
  }

  destroyAll(): void {
    for (const pooled of this.pools.values()) pooled.agent.destroy();
    this.pools.clear();
  }
}

/**
 * Closes the pool's idle connections to ip:port: one of them turned out closed by its peer, so the others (made
 * to the same peer, idle as long or longer) are as likely to be, and a request must not be sent on them.
 */
export function dropIdleConnections(agent: Agent, ip: string, port: number): void {
  for (const sockets of Object.values(agent.freeSockets)) {
    if (!sockets) continue;
    // In place: the agent hands out sockets from these very lists.
    for (let i = sockets.length - 1; i >= 0; i--) {
      const s = sockets[i]!;
      if (s.remoteAddress !== ip || s.remotePort !== port) continue;
      sockets.splice(i, 1);
      s.destroy();
    }
  }
}

/**
 * Envoy's upstream idle timeout (1 h) on pooled connections, shortened by a server's `Keep-Alive: timeout=N` to a
 * second before the server would close (a hint of 1 s or less: not pooled at all), so a pooled connection is never
 * reused just as the server closes it (503 UC). What Node's agent does with its `timeout` option, except that the
 * socket's timer is set once and left armed: Node's agent disarms it when a response ends and arms it again when the
 * connection goes back to the pool, and adds a timeout listener per request, a timer and a listener churned on every
 * request. Armed while a request is in flight it changes nothing: a request is never cut by it (the timer only
 * counts the time without reads or writes, and the agent closes only connections in its pool on it).
 */
function keepIdleTimeout(agent: Agent): void {
  agent.keepSocketAlive = (socket: Duplex): boolean => {
    const s = socket as Socket & { _httpMessage?: { res?: { headers: { 'keep-alive'?: string } } } };
    s.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    s.unref();
    let idleMs = UPSTREAM_IDLE_TIMEOUT_MS;
    const hint = s._httpMessage?.res?.headers['keep-alive'];
    const seconds = hint === undefined ? undefined : /^timeout=(\d+)/.exec(hint)?.[1];
    if (seconds !== undefined) {
      const hintMs = Number(seconds) * 1000 - KEEP_ALIVE_HINT_MARGIN_MS;
      if (hintMs <= 0) return false;
      idleMs = Math.min(idleMs, hintMs);
    }
    if (s.timeout !== idleMs) s.setTimeout(idleMs);
    return true;
  };
}

function sameTls(a: CompiledCluster['tls'], b: CompiledCluster['tls']): boolean {
  if (a === b) return true;
  if (!a?.ok || !b?.ok) return false;
  return a.ca === b.ca && a.cert === b.cert && a.key === b.key && a.rejectUnauthorized === b.rejectUnauthorized;
}

/** Closes idle sockets now and busy ones as soon as their request ends. */
function retire(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  agent.on('free', (socket: Socket) => socket.destroy());
}
