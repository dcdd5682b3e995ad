import type { Resource } from '../../model/index.js';
import { HostMap } from '../host.js';

type DestinationRule = Resource<'DestinationRule'>;

/** Every DestinationRule by host, whatever its namespace or exportTo: who defines a subset anywhere. */
export class SubsetOwners {
  private readonly byHost = new HostMap<DestinationRule>();

  constructor(rules: readonly DestinationRule[]) {
    for (const dr of rules) this.byHost.add(dr.spec.host, dr);
  }

  /** The DestinationRules, in any namespace, for a host covering `host` that define `subset`. */
  owners(host: string, subset: string): DestinationRule[] {
    return this.byHost.matching(host).filter((dr) => dr.spec.subsets.some((s) => s.name === subset));
  }
}
