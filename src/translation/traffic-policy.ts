import type { PortTrafficPolicy, Subset, TrafficPolicy } from '../model/index.js';

export type PolicyFields = Pick<TrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'tls'>;

const FIELDS = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;

function layer(base: PolicyFields, over: PolicyFields | PortTrafficPolicy | undefined): PolicyFields {
  if (!over) return base;
  const out: { -readonly [K in keyof PolicyFields]: PolicyFields[K] } = { ...base };
  for (const f of FIELDS) if (over[f] !== undefined) (out as Record<string, unknown>)[f] = over[f];
  return out;
}

function forPort(p: TrafficPolicy | undefined, port: number): PortTrafficPolicy | undefined {
  return p?.portLevelSettings.find((s) => s.port === port);
}

/**
 * The policy for one cluster, as pilot's MergeTrafficPolicy: the rule's top level, its port-level settings for
 * the port, then the subset's top level and the subset's port-level settings; each layer replaces whole fields.
 */
export function effectivePolicy(
  top: TrafficPolicy | undefined,
  subset: Subset | undefined,
  port: number,
): PolicyFields {
  let p: PolicyFields = {};
  p = layer(p, top);
  p = layer(p, forPort(top, port));
  p = layer(p, subset?.trafficPolicy);
  p = layer(p, forPort(subset?.trafficPolicy, port));
  return p;
}
