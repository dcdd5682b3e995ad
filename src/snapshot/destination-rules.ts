import type { Labels, Resource, Subset, TrafficPolicy } from '../model/index.js';
import { HostMap } from './host.js';
import { labelsMatch } from './labels.js';
import { isExportedTo } from './visibility.js';

/** The DestinationRule a client applies to one host: several same-namespace rules for a host merged. */
export interface EffectiveDestinationRule {
  readonly host: string;
  readonly namespace: string;
  readonly trafficPolicy?: TrafficPolicy;
  /** First subset of a name wins. */
  readonly subsets: readonly Subset[];
  readonly rules: readonly Resource<'DestinationRule'>[];
}

/**
 * DestinationRules by namespace and host. A client looks in its own namespace, then the service's namespace,
 * then the root namespace (pilot's PushContext.destinationRule), taking the first namespace that has a rule for
 * the host; within a namespace the most specific host wins (exact, then longer wildcards). Rules outside the
 * client's namespace count only when exported to it; rules with a workloadSelector only for the workloads they
 * select in their own namespace.
 */
export class DestinationRuleIndex {
  private readonly byNamespace = new Map<string, HostMap<Resource<'DestinationRule'>>>();

  constructor(
    rules: readonly Resource<'DestinationRule'>[],
    private readonly rootNamespace: string,
  ) {
    for (const dr of rules) {
      let m = this.byNamespace.get(dr.meta.namespace);
      if (!m) this.byNamespace.set(dr.meta.namespace, (m = new HostMap()));
      m.add(dr.spec.host, dr);
    }
  }

  lookup(
    host: string,
    serviceNamespace: string,
    client: { readonly namespace: string; readonly labels: Labels },
  ): EffectiveDestinationRule | undefined {
    const order = [client.namespace, serviceNamespace, this.rootNamespace];
    const seen = new Set<string>();
    for (const ns of order) {
      if (seen.has(ns)) continue;
      seen.add(ns);
      const found = this.inNamespace(ns, host, client);
      if (found) return found;
    }
    return undefined;
  }

  private inNamespace(
    ns: string,
    host: string,
    client: { readonly namespace: string; readonly labels: Labels },
  ): EffectiveDestinationRule | undefined {
    const m = this.byNamespace.get(ns);
    if (!m) return undefined;
    const applies = (dr: Resource<'DestinationRule'>): boolean => {
      if (ns !== client.namespace && !isExportedTo(dr.spec.exportTo, ns, client.namespace)) return false;
      const sel = dr.spec.workloadSelector;
      if (!sel) return true;
      return ns === client.namespace && labelsMatch(sel.matchLabels, client.labels);
    };
    const candidates = m.matching(host).filter(applies);
    const first = candidates[0];
    if (!first) return undefined;
    // Only rules for the same (most specific) host merge; selector rules ahead of namespace-wide ones.
    const same = candidates
      .filter((dr) => dr.spec.host === first.spec.host)
      .sort((a, b) => Number(!a.spec.workloadSelector) - Number(!b.spec.workloadSelector));
    const subsets: Subset[] = [];
    const names = new Set<string>();
    for (const dr of same) {
      for (const s of dr.spec.subsets) {
        if (names.has(s.name)) continue;
        names.add(s.name);
        subsets.push(s);
      }
    }
    const trafficPolicy = same.find((dr) => dr.spec.trafficPolicy)?.spec.trafficPolicy;
    return {
      host: first.spec.host,
      namespace: ns,
      ...(trafficPolicy ? { trafficPolicy } : {}),
      subsets,
      rules: same,
    };
  }
}
