import type { Labels, Resource } from '../../model/index.js';
import { MESH_GATEWAY } from '../virtual-services.js';

type VirtualService = Resource<'VirtualService'>;

/** What every http, tls and tcp match has in common for deciding where a rule applies. */
export interface ScopedMatch {
  readonly port?: number;
  readonly gateways: readonly string[];
  readonly sourceLabels?: Labels;
  readonly sourceNamespace?: string;
}

/** A rule of any of the three kinds, with its field path ("spec.tls[2]"). */
export interface RuleRef {
  readonly kind: 'http' | 'tls' | 'tcp';
  readonly index: number;
  readonly field: string;
  readonly match: readonly ScopedMatch[];
}

/** Every rule of a VirtualService, http first, then tls, then tcp. */
export function rulesOf(vs: VirtualService): RuleRef[] {
  return [
    ...vs.spec.http.map((r, i) => ({ kind: 'http' as const, index: i, field: `spec.http[${i}]`, match: r.match })),
    ...vs.spec.tls.map((r, i) => ({ kind: 'tls' as const, index: i, field: `spec.tls[${i}]`, match: r.match })),
    ...vs.spec.tcp.map((r, i) => ({ kind: 'tcp' as const, index: i, field: `spec.tcp[${i}]`, match: r.match })),
  ];
}

/** The gateways one match applies to: its own list overrides the VirtualService's (Istio's match.gateways). */
export function matchGateways(vs: VirtualService, m: ScopedMatch): readonly string[] {
  return m.gateways.length > 0 ? m.gateways : vs.spec.gateways;
}

/**
 * Whether a rule can apply to `gateway` ("mesh" or "ns/name"). Only VirtualServices listing the gateway are
 * considered for it at all; then a rule without matches applies, and a rule with matches applies when one of
 * them does.
 */
export function ruleAppliesTo(vs: VirtualService, match: readonly ScopedMatch[], gateway: string): boolean {
  return matchesFor(vs, match, gateway).length > 0;
}

/** The matches of a rule that apply to `gateway`; a rule without matches yields one catch-all match. */
export function matchesFor(vs: VirtualService, match: readonly ScopedMatch[], gateway: string): ScopedMatch[] {
  if (!vs.spec.gateways.includes(gateway)) return [];
  if (match.length === 0) return [{ gateways: [] }];
  return match.filter((m) => matchGateways(vs, m).includes(gateway));
}

export function isMeshBound(vs: VirtualService): boolean {
  return vs.spec.gateways.includes(MESH_GATEWAY);
}

/** "ns/name" of a Gateway resource, the form VirtualServices reference it by after ingest. */
export function gatewayKey(gw: Resource<'Gateway'>): string {
  return `${gw.meta.namespace}/${gw.meta.name}`;
}

/**
 * JSON with object keys sorted, so two matches written with keys in different orders compare equal (Istio
 * compares protobuf JSON, whose map keys are sorted). `undefined` members are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
