// Filter chain selection, compiled once per push (Envoy's FilterChainManager): a connection is matched level by
// level — destination port, destination, server name, transport protocol — and at each level only the most
// specific bucket that exists is considered. There is no fallback to a less specific bucket when a later level
// finds nothing: the connection then gets the listener's default chain, if it has one.
import { BlockList, isIP } from 'node:net';
import type { FilterChain, NetworkFilter, WeightedCluster } from '../../proxy-config/types.js';
import { compileClusterPicker, type Random } from '../compile-routes.js';
import { ConfigError } from '../errors.js';
import { assertNever } from '../matchers.js';
import { compileDownstreamTls, type CompiledDownstreamTls, type TlsMaterials } from './tls-contexts.js';

export type CompiledNetworkFilter =
  | { readonly kind: 'http'; readonly routeConfigName: string }
  | { readonly kind: 'tcp-proxy'; readonly clusterNames: readonly string[]; pickCluster(): WeightedCluster };

export interface CompiledFilterChain {
  readonly name: string;
  readonly tls: CompiledDownstreamTls | undefined;
  readonly filter: CompiledNetworkFilter;
}

/** What is known of a connection when its chain is chosen. */
export interface ConnectionFacts {
  readonly destinationPort?: number;
  /** A host name (lower-case) or an IP address: the CONNECT authority's host. */
  readonly destination?: string;
  /** Undefined when the first bytes were not inspected. */
  readonly transport?: 'tls' | 'raw_buffer';
  readonly serverName?: string;
}

interface TransportLevel {
  tls?: CompiledFilterChain;
  raw?: CompiledFilterChain;
  any?: CompiledFilterChain;
}

interface SniLevel {
  readonly exact: Map<string, TransportLevel>;
  /** "*.example.com" keyed ".example.com". */
  readonly wildcard: Map<string, TransportLevel>;
  none?: TransportLevel;
}

interface DestinationLevel {
  readonly names: Map<string, SniLevel>;
  /** CIDR blocks, most specific first. */
  readonly blocks: { readonly list: BlockList; readonly bits: number; readonly level: SniLevel }[];
  none?: SniLevel;
}

export class FilterChainTable {
  private readonly byPort = new Map<number, DestinationLevel>();
  private anyPort: DestinationLevel | undefined;

  constructor(
    chains: readonly FilterChain[],
    field: string,
    materials: TlsMaterials,
    /** A connection no chain takes; undefined closes it (filter_chain_not_found). */
    readonly defaultChain: CompiledFilterChain | undefined,
    random: Random,
  ) {
    const names = new Set<string>();
    chains.forEach((chain, i) => {
      const f = `${field}[${i}] (${chain.name})`;
      if (names.has(chain.name)) throw new ConfigError(`${f}.name`, 'duplicate filter chain name');
      names.add(chain.name);
      this.add(chain, compileFilterChain(chain, f, materials, random), f);
    });
    for (const d of [this.anyPort, ...this.byPort.values()]) d?.blocks.sort((a, b) => b.bits - a.bits);
  }

  /**
   * Whether choosing a chain for a connection to this destination depends on its first bytes (SNI or transport):
   * then they must be read before the connection can be dispatched.
   */
  needsInspection(facts: Pick<ConnectionFacts, 'destinationPort' | 'destination'>): boolean {
    const sni = this.sniLevel(facts);
    if (!sni) return false;
    if (sni.exact.size > 0 || sni.wildcard.size > 0) return true;
    const t = sni.none;
    return t !== undefined && (t.tls !== undefined || t.raw !== undefined);
  }

  /**
   * Whether some chain could take a connection to this destination, assuming a TLS client asks for the destination
   * host by name (SNI = the CONNECT host). Used to refuse a CONNECT before it is answered 200.
   */
  couldMatch(facts: Pick<ConnectionFacts, 'destinationPort' | 'destination'>): boolean {
    const sni = this.sniLevel(facts);
    if (!sni) return false;
    if (sni.none) return true;
    const host = facts.destination;
    // An IP literal says nothing of the name the client will ask for.
    if (host === undefined || isIP(host) !== 0) return true;
    return this.sniMatch(sni, host) !== undefined;
  }

  select(facts: ConnectionFacts): CompiledFilterChain | undefined {
    const sni = this.sniLevel(facts);
    if (!sni) return this.defaultChain;
    const transport =
      facts.transport === 'tls' && facts.serverName !== undefined ? this.sniMatch(sni, facts.serverName) : sni.none;
    if (!transport) return this.defaultChain;
    const chosen =
      (facts.transport === 'tls' ? transport.tls : facts.transport === 'raw_buffer' ? transport.raw : undefined) ??
      transport.any;
    return chosen ?? this.defaultChain;
  }

  private sniLevel(facts: Pick<ConnectionFacts, 'destinationPort' | 'destination'>): SniLevel | undefined {
    const d =
      (facts.destinationPort !== undefined ? this.byPort.get(facts.destinationPort) : undefined) ?? this.anyPort;
    if (!d) return undefined;
    const dest = facts.destination;
    if (dest !== undefined) {
      const named = d.names.get(dest);
      if (named) return named;
      const family = isIP(dest);
      if (family !== 0) {
        const type = family === 4 ? 'ipv4' : 'ipv6';
        for (const b of d.blocks) if (b.list.check(dest, type)) return b.level;
      }
    }
    return d.none;
  }

  /** Exact name first, then the longest wildcard suffix; a name with no match has none (no fallback). */
  private sniMatch(sni: SniLevel, name: string): TransportLevel | undefined {
    const exact = sni.exact.get(name);
    if (exact) return exact;
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const hit = sni.wildcard.get(name.slice(dot));
      if (hit) return hit;
    }
    return undefined;
  }

  private add(chain: FilterChain, compiled: CompiledFilterChain, field: string): void {
    const m = chain.match;
    let d: DestinationLevel;
    if (m.destinationPort !== undefined) {
      const existing = this.byPort.get(m.destinationPort);
      d = existing ?? newDestinationLevel();
      if (!existing) this.byPort.set(m.destinationPort, d);
    } else d = this.anyPort ??= newDestinationLevel();

    const sniLevels: SniLevel[] = [];
    if (!m.destinations || m.destinations.length === 0) sniLevels.push((d.none ??= newSniLevel()));
    else {
      for (const raw of m.destinations) {
        const dest = raw.toLowerCase();
        const [ip, bits] = dest.split('/') as [string, string | undefined];
        const family = isIP(ip);
        if (family !== 0 && bits !== undefined && Number(bits) !== (family === 4 ? 32 : 128)) {
          const prefix = Number(bits);
          if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
            throw new ConfigError(`${field}.match.destinations`, `${JSON.stringify(raw)} is not a CIDR block`);
          }
          const list = new BlockList();
          list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
          const level = newSniLevel();
          d.blocks.push({ list, bits: prefix, level });
          sniLevels.push(level);
          continue;
        }
        const key = family !== 0 ? ip : dest;
        let level = d.names.get(key);
        if (!level) d.names.set(key, (level = newSniLevel()));
        sniLevels.push(level);
      }
    }

    for (const sni of sniLevels) {
      const transports: TransportLevel[] = [];
      if (!m.serverNames || m.serverNames.length === 0) transports.push((sni.none ??= {}));
      else {
        for (const raw of m.serverNames) {
          const name = raw.toLowerCase();
          const wildcard = name.startsWith('*.');
          if (name.includes('*') && !wildcard) {
            throw new ConfigError(`${field}.match.serverNames`, `unsupported wildcard ${JSON.stringify(raw)}`);
          }
          const map = wildcard ? sni.wildcard : sni.exact;
          const key = wildcard ? name.slice(1) : name;
          let t = map.get(key);
          if (!t) map.set(key, (t = {}));
          transports.push(t);
        }
      }
      // The first chain claiming a slot keeps it (Istio drops duplicates; Envoy would refuse them).
      for (const t of transports) {
        if (m.transportProtocol === 'tls') t.tls ??= compiled;
        else if (m.transportProtocol === 'raw_buffer') t.raw ??= compiled;
        else t.any ??= compiled;
      }
    }
  }
}

function newDestinationLevel(): DestinationLevel {
  return { names: new Map(), blocks: [] };
}

function newSniLevel(): SniLevel {
  return { exact: new Map(), wildcard: new Map() };
}

export function compileFilterChain(
  chain: FilterChain,
  field: string,
  materials: TlsMaterials,
  random: Random,
): CompiledFilterChain {
  return Object.freeze({
    name: chain.name,
    tls: chain.tls ? compileDownstreamTls(chain.tls, `${field}.tls`, materials) : undefined,
    filter: compileNetworkFilter(chain.filter, `${field}.filter`, random),
  });
}

function compileNetworkFilter(f: NetworkFilter, field: string, random: Random): CompiledNetworkFilter {
  switch (f.kind) {
    case 'http':
      if (!f.routeConfigName) throw new ConfigError(`${field}.routeConfigName`, 'must not be empty');
      return Object.freeze({ kind: 'http', routeConfigName: f.routeConfigName });
    case 'tcp-proxy':
      return Object.freeze({
        kind: 'tcp-proxy',
        clusterNames: Object.freeze(f.clusters.map((c) => c.cluster)),
        pickCluster: compileClusterPicker(f.clusters, `${field}.clusters`, random),
      });
    default:
      return assertNever(f, `${field}.kind`);
  }
}
