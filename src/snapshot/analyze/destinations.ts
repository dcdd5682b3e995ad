import type { Destination, Resource } from '../../model/index.js';
import type { ScopedMatch } from './rule-scope.js';

export interface DestinationRef {
  readonly destination: Destination;
  /** Field path of the destination object, e.g. "spec.http[0].route[1].destination". */
  readonly field: string;
  /** The matches of the rule the destination belongs to (empty: the rule matches everything). */
  readonly match: readonly ScopedMatch[];
}

/** Every destination a VirtualService routes or mirrors to, with its field path and its rule's matches. */
export function destinationsOf(vs: Resource<'VirtualService'>): DestinationRef[] {
  const out: DestinationRef[] = [];
  vs.spec.http.forEach((h, i) => {
    h.route.forEach((r, j) =>
      out.push({ destination: r.destination, field: `spec.http[${i}].route[${j}].destination`, match: h.match }),
    );
    if (h.mirror) out.push({ destination: h.mirror, field: `spec.http[${i}].mirror`, match: h.match });
  });
  vs.spec.tls.forEach((t, i) =>
    t.route.forEach((r, j) =>
      out.push({ destination: r.destination, field: `spec.tls[${i}].route[${j}].destination`, match: t.match }),
    ),
  );
  vs.spec.tcp.forEach((t, i) =>
    t.route.forEach((r, j) =>
      out.push({ destination: r.destination, field: `spec.tcp[${i}].route[${j}].destination`, match: t.match }),
    ),
  );
  return out;
}
