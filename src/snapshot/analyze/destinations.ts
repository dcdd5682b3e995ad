import type { Destination, Resource } from '../../model/index.js';
import type { ScopedMatch } from './rule-scope.js';

export interface DestinationRef {
  readonly destination: Destination;
  /** The rule it belongs to: its kind and index ("tls", 2 for spec.tls[2]). */
  readonly kind: 'http' | 'tls' | 'tcp';
  readonly rule: number;
  /** Field path of the destination object, e.g. "spec.http[0].route[1].destination". */
  readonly field: string;
  /** The matches of the rule the destination belongs to (empty: the rule matches everything). */
  readonly match: readonly ScopedMatch[];
}

/** Every destination a VirtualService routes or mirrors to, with its field path and its rule's matches. */
export function destinationsOf(vs: Resource<'VirtualService'>): DestinationRef[] {
  const out: DestinationRef[] = [];
  vs.spec.http.forEach((h, i) => {
    const rule = { kind: 'http', rule: i, match: h.match } as const;
    h.route.forEach((r, j) =>
      out.push({ ...rule, destination: r.destination, field: `spec.http[${i}].route[${j}].destination` }),
    );
    if (h.mirror) out.push({ ...rule, destination: h.mirror, field: `spec.http[${i}].mirror` });
  });
  for (const kind of ['tls', 'tcp'] as const) {
    vs.spec[kind].forEach((t, i) =>
      t.route.forEach((r, j) =>
        out.push({
          kind,
          rule: i,
          match: t.match,
          destination: r.destination,
          field: `spec.${kind}[${i}].route[${j}].destination`,
        }),
      ),
    );
  }
  return out;
}
