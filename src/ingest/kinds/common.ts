import type { Kind, ObjectMeta, PortProtocol, SpecByKind, StringMatch } from '../../model/index.js';
import { CLUSTER_DOMAIN } from '../../model/index.js';
import type { DecodeContext } from '../decode-context.js';
import {
  array,
  enumOf,
  int,
  map,
  number,
  object,
  oneOf,
  optional,
  string,
  type Infer,
  type Schema,
} from '../schema.js';

/** How one kind is read: its API group and versions, the external spec schema, and the normalization. */
export interface KindCodec<K extends Kind, Ext = unknown> {
  readonly kind: K;
  readonly group: string;
  readonly versions: readonly string[];
  /** Istio kinds warn on unknown top-level fields; Kubernetes objects carry many we ignore. */
  readonly strict: boolean;
  /** Absent means the kind has no `spec` (ServiceAccount). */
  readonly spec?: Schema<Ext>;
  /** Whether a missing spec is an error. */
  readonly specRequired: boolean;
  normalize(ext: Ext | undefined, meta: ObjectMeta, ctx: DecodeContext): SpecByKind[K];
}

export function defineKind<K extends Kind, Ext>(codec: KindCodec<K, Ext>): KindCodec<K, Ext> {
  return codec;
}

export const PORT_PROTOCOLS = [
  'HTTP',
  'HTTPS',
  'GRPC',
  'GRPC-WEB',
  'HTTP2',
  'MONGO',
  'TCP',
  'TLS',
  'UDP',
] as const satisfies readonly PortProtocol[];

/** Istio parses port protocols case-insensitively (pkg/config/protocol Parse). */
export const portProtocol = (): Schema<PortProtocol> => enumOf(PORT_PROTOCOLS, { caseInsensitive: true });

export const labels = () => map(string());

export const istioPort = () =>
  object({
    number: int(),
    protocol: optional(portProtocol()),
    name: optional(string()),
    targetPort: optional(int()),
  });

export const stringMatch = () => oneOf({ exact: string(), prefix: string(), regex: string() });

export const percent = () => object({ value: number() });

export const portSelector = () => object({ number: int() });

export const destination = () =>
  object({
    host: string(),
    subset: optional(string()),
    port: optional(portSelector()),
  });

export const workloadSelectorLabels = () => object({ labels: optional(labels()) });

export type ExtStringMatch = Infer<ReturnType<typeof stringMatch>>;

export function toStringMatch(m: ExtStringMatch): StringMatch {
  if ('exact' in m) return { kind: 'exact', value: m.exact };
  if ('prefix' in m) return { kind: 'prefix', value: m.prefix };
  return { kind: 'regex', value: m.regex };
}

/**
 * Short names (no dot, not "*") are qualified with the resource's namespace, as Istio resolves them
 * (pilot ResolveShortnameToFQDN): "reviews" in "default" -> "reviews.default.svc.cluster.local".
 */
export function qualifyHost(host: string, namespace: string): string {
  const h = host.toLowerCase();
  if (h === '*' || h.includes('.') || h === '') return h;
  return `${h}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** VirtualService gateway references: "mesh" stays, "ns/name" stays, "./name" and "name" get the VS namespace. */
export function normalizeGatewayRef(ref: string, namespace: string): string {
  if (ref === 'mesh') return ref;
  const slash = ref.indexOf('/');
  if (slash < 0) {
    // Legacy "name.namespace" form is validated (and warned about) separately; keep it as Istio would resolve it.
    const dot = ref.indexOf('.');
    if (dot > 0) return `${ref.slice(dot + 1).split('.')[0]}/${ref.slice(0, dot)}`;
    return `${namespace}/${ref}`;
  }
  const ns = ref.slice(0, slash);
  return `${ns === '.' ? namespace : ns}/${ref.slice(slash + 1)}`;
}

export function lowerKeys<T>(record: Readonly<Record<string, T>> | undefined): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(record ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/** Drops undefined values so optional model fields are absent rather than present-and-undefined. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export const optionalArray = <T>(s: Schema<T>) => optional(array(s));
