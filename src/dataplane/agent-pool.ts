// One keep-alive connection pool per cluster, kept across config pushes while the cluster exists (so a push
// does not drop warm connections) and retired when a push removes it.
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { CompiledCluster } from './compile-clusters.js';

interface Pooled {
  readonly agent: Agent;
  readonly maxConnections: number | undefined;
}

export class AgentPool {
  private readonly pools = new Map<string, Pooled>();

  get(cluster: CompiledCluster): Agent {
    const existing = this.pools.get(cluster.name);
    if (existing && existing.maxConnections === cluster.maxConnections) return existing.agent;
    if (existing) retire(existing.agent);
    const agent = new Agent({
      keepAlive: true,
      maxTotalSockets: cluster.maxConnections ?? Infinity,
      scheduling: 'lifo',
    });
    this.pools.set(cluster.name, { agent, maxConnections: cluster.maxConnections });
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

/** Closes idle sockets now and busy ones as soon as their request ends. */
function retire(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  agent.on('free', (socket: Socket) => socket.destroy());
}
