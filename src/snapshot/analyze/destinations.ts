import type { Destination, Resource } from '../../model/index.js';

export interface DestinationRef {
  readonly destination: Destination;
  /** Field path of the destination object, e.g. "spec.http[0].route[1].destination". */
  readonly field: string;
}

/** Every destination a VirtualService routes or mirrors to, with its field path. */
export function destinationsOf(vs: Resource<'VirtualService'>): DestinationRef[] {
  const out: DestinationRef[] = [];
  vs.spec.http.forEach((h, i) => {
    h.route.forEach((r, j) => out.push({ destination: r.destination, field: `spec.http[${i}].route[${j}].destination` }));
    if (h.mirror) out.push({ destination: h.mirror, field: `spec.http[${i}].mirror` });
  });
  vs.spec.tls.forEach((t, i) =>
    t.route.forEach((r, j) => out.push({ destination: r.destination, field: `spec.tls[${i}].route[${j}].destination` })),
  );
  vs.spec.tcp.forEach((t, i) =>
    t.route.forEach((r, j) => out.push({ destination: r.destination, field: `spec.tcp[${i}].route[${j}].destination` })),
  );
  return out;
}
