import type { ClientTLSSettings, Resource, TrafficPolicy } from '../../model/index.js';
import type { EffectiveDestinationRule } from '../destination-rules.js';

type DestinationRule = Resource<'DestinationRule'>;

/** One `tls` block as written in a DestinationRule: where it is, and which clusters it is written for. */
export interface WrittenClientTls {
  readonly rule: DestinationRule;
  readonly tls: ClientTLSSettings;
  /** "spec.subsets[0].trafficPolicy.portLevelSettings[1].tls" */
  readonly field: string;
  /** Set for a block inside a subset. */
  readonly subset?: string;
  /** Set for a block inside portLevelSettings. */
  readonly port?: number;
}

function policyBlocks(
  rule: DestinationRule,
  policy: TrafficPolicy | undefined,
  path: string,
  subset: string | undefined,
): WrittenClientTls[] {
  if (!policy) return [];
  const extra = subset !== undefined ? { subset } : {};
  const out: WrittenClientTls[] = [];
  if (policy.tls) out.push({ rule, tls: policy.tls, field: `${path}.tls`, ...extra });
  policy.portLevelSettings.forEach((p, i) => {
    if (p.tls) out.push({ rule, tls: p.tls, field: `${path}.portLevelSettings[${i}].tls`, port: p.port, ...extra });
  });
  return out;
}

/** Every tls block of a DestinationRule: the top-level policy's, then each subset's. */
export function writtenTls(rule: DestinationRule): WrittenClientTls[] {
  return [
    ...policyBlocks(rule, rule.spec.trafficPolicy, 'spec.trafficPolicy', undefined),
    ...rule.spec.subsets.flatMap((s, k) =>
      policyBlocks(rule, s.trafficPolicy, `spec.subsets[${k}].trafficPolicy`, s.name),
    ),
  ];
}

/**
 * The tls block a client's cluster for `port` (and `subset`) takes from the DestinationRule it looks up, merged as
 * pilot's MergeTrafficPolicy layers them: the subset's port-level tls, else the subset's own, else the rule's
 * port-level tls, else the rule's own. Undefined: the cluster originates no TLS.
 */
export function clusterTls(
  dr: EffectiveDestinationRule | undefined,
  port: number,
  subset?: string,
): WrittenClientTls | undefined {
  if (!dr) return undefined;
  const chosen = dr.subsets.find((s) => s.name === subset);
  if (chosen) {
    const owner = dr.rules.find((r) => r.spec.subsets.includes(chosen));
    const k = owner?.spec.subsets.indexOf(chosen) ?? -1;
    const found =
      owner &&
      mostSpecific(policyBlocks(owner, chosen.trafficPolicy, `spec.subsets[${k}].trafficPolicy`, chosen.name), port);
    if (found) return found;
  }
  const owner = dr.rules.find((r) => r.spec.trafficPolicy !== undefined && r.spec.trafficPolicy === dr.trafficPolicy);
  return owner && mostSpecific(policyBlocks(owner, owner.spec.trafficPolicy, 'spec.trafficPolicy', undefined), port);
}

/** Within one policy, the port's own tls beats the policy-wide one. */
function mostSpecific(blocks: readonly WrittenClientTls[], port: number): WrittenClientTls | undefined {
  return blocks.find((b) => b.port === port) ?? blocks.find((b) => b.port === undefined);
}
