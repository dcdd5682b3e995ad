// One upstream connection pool per cluster, kept across config pushes while the cluster exists (so a push does not
// drop warm connections) and retired when a push removes it or changes how its connections are made.
import type { CompiledCluster } from './compile-clusters.js';
import { UpstreamPool } from './http1/pool.js';

interface Pooled {
  readonly pool: UpstreamPool;
  readonly maxConnections: number | undefined;
  /** The TLS settings the pool's connections were made with: a push that changes them starts a new pool. */
  readonly tls: CompiledCluster['tls'];
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pooled>();

  /** The cluster's pool: TLS connections (with the cluster's CA and client certificate) when it originates TLS. */
  get(cluster: CompiledCluster): UpstreamPool {
    const existing = this.pools.get(cluster.name);
    if (existing && existing.maxConnections === cluster.maxConnections && sameTls(existing.tls, cluster.tls)) {
      return existing.pool;
    }
    if (existing) existing.pool.retire();
    const tls = cluster.tls?.ok ? cluster.tls : undefined;
    const pool = new UpstreamPool({
      maxConnections: cluster.maxConnections ?? Number.POSITIVE_INFINITY,
      ...(tls ? { tls: { secureContext: tls.secureContext, rejectUnauthorized: tls.rejectUnauthorized } } : {}),
    });
    this.pools.set(cluster.name, { pool, maxConnections: cluster.maxConnections, tls: cluster.tls });
    return pool;
  }

  /** Retires the pools of clusters no longer configured; requests using them finish first. */
  retainOnly(clusterNames: ReadonlySet<string>): void {
    for (const [name, pooled] of this.pools) {
      if (clusterNames.has(name)) continue;
      this.pools.delete(name);
      pooled.pool.retire();
    }
  }

  destroyAll(): void {
    for (const pooled of this.pools.values()) pooled.pool.destroy();
    this.pools.clear();
  }
}

function sameTls(a: CompiledCluster['tls'], b: CompiledCluster['tls']): boolean {
  if (a === b) return true;
  if (!a?.ok || !b?.ok) return false;
  return a.ca === b.ca && a.cert === b.cert && a.key === b.key && a.rejectUnauthorized === b.rejectUnauthorized;
}
