import type { Labels, Resource } from '../../model/index.js';
import { labelsMatch } from '../labels.js';
import type { Snapshot } from '../types.js';
import { isExportedTo } from '../visibility.js';
import { gatewayKey, matchesFor, type ScopedMatch } from './rule-scope.js';

type VirtualService = Resource<'VirtualService'>;

/** A proxy that may take a route: a workload's sidecar, or an egress gateway. */
export interface Client {
  readonly namespace: string;
  readonly labels: Labels;
}

/** Whether a match's sourceNamespace and sourceLabels let the client take it. */
export function sourceAllows(m: ScopedMatch, c: Client): boolean {
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== c.namespace) return false;
  return labelsMatch(m.sourceLabels ?? {}, c.labels);
}

/**
 * The sidecars a mesh rule reaches: the Deployments of every namespace the VirtualService is exported to, plus
 * one stand-in client per namespace it is written for (its own, and each namespace its exportTo names) even with
 * no workload there yet. sourceNamespace and sourceLabels narrow the set as they do in pilot.
 */
export function meshClients(snapshot: Snapshot, vs: VirtualService, matches: readonly ScopedMatch[]): Client[] {
  const ns = vs.meta.namespace;
  const named = [ns, ...vs.spec.exportTo.filter((e) => e !== '*' && e !== '.' && e !== '~')];
  const candidates: Client[] = [
    ...named.filter((n) => isExportedTo(vs.spec.exportTo, ns, n)).map((n) => ({ namespace: n, labels: {} })),
    ...snapshot.byKind.Deployment.filter((d) => isExportedTo(vs.spec.exportTo, ns, d.meta.namespace)).map((d) => ({
      namespace: d.meta.namespace,
      labels: d.spec.podLabels,
    })),
  ];
  return candidates.filter((c) => matches.some((m) => sourceAllows(m, c)));
}

/** The egress gateway workloads of every Gateway the rule applies at. */
export function gatewayClients(snapshot: Snapshot, vs: VirtualService, match: readonly ScopedMatch[]): Client[] {
  const out: Client[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    if (matchesFor(vs, match, gatewayKey(gw)).length === 0) continue;
    for (const g of snapshot.egressGateways) {
      if (labelsMatch(gw.spec.selector, g.labels)) out.push({ namespace: g.namespace, labels: g.labels });
    }
  }
  return out;
}
