// The columns `get` prints for each kind: kubectl's for Kubernetes kinds and Istio's CRD printer columns for
// Istio kinds (arrays printed as JSON, as kubectl prints a column whose value is a list), then AGE. `-o wide`
// adds kubectl's wide columns and SOURCE, the file and line the resource is defined at.
import type { ProxyStatus } from '../controller/index.js';
import type { Kind } from '../model/index.js';

/** One resource as `get` receives it, with its YAML already parsed. */
export interface Row {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
  readonly source: { readonly file: string; readonly line: number };
  /** ISO 8601: when the controller first had the resource in force. */
  readonly created: string | undefined;
  readonly object: Record<string, unknown>;
}

export interface Column {
  readonly header: string;
  readonly value: (row: Row, ctx: ColumnContext) => string;
  /** Shown with -o wide only. */
  readonly wide?: boolean;
}

export interface ColumnContext {
  readonly now: Date;
  /** The proxies the controller knows: a Deployment's READY reads its sidecar. */
  readonly proxies: readonly ProxyStatus[];
}

const NONE = '<none>';

function field(obj: unknown, ...path: string[]): unknown {
  let at = obj;
  for (const p of path) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[p] : undefined;
  return at;
}

/** A printer column over a path in the object: scalars as they are, lists and maps as JSON. */
function path(header: string, ...p: string[]): Column {
  return {
    header,
    value: ({ object }) => {
      const v = field(object, ...p);
      if (v === undefined || v === null) return NONE;
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    },
  };
}

function labels(map: unknown): string {
  if (typeof map !== 'object' || map === null) return NONE;
  const pairs = Object.entries(map as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
  return pairs.length > 0 ? pairs.join(',') : NONE;
}

const AGE: Column = { header: 'AGE', value: (row, ctx) => age(row.created, ctx.now) };
const SOURCE: Column = { header: 'SOURCE', value: (row) => `${row.source.file}:${row.source.line}`, wide: true };

/** A Deployment's pods in local mode: one sidecar per replica. */
function podsOf(row: Row, ctx: ColumnContext): ProxyStatus[] {
  return ctx.proxies.filter(
    (p) => p.type === 'sidecar' && p.declared && p.name === row.name && p.namespace === row.namespace,
  );
}

/** Ready: an endpoint with the current config. Up to date: the current config. Available: connected. */
function replicaCount(row: Row, ctx: ColumnContext, counts: (p: ProxyStatus) => boolean): number {
  return podsOf(row, ctx).filter(counts).length;
}

const containers = (row: Row): { name?: unknown; image?: unknown }[] => {
  const list = field(row.object, 'spec', 'template', 'spec', 'containers');
  return Array.isArray(list) ? (list as { name?: unknown; image?: unknown }[]) : [];
};

function servicePorts(row: Row): string {
  const ports = field(row.object, 'spec', 'ports');
  if (!Array.isArray(ports) || ports.length === 0) return NONE;
  return ports.map((p) => `${String(field(p, 'port'))}/${String(field(p, 'protocol') ?? 'TCP')}`).join(',');
}

export const COLUMNS: Record<Kind, readonly Column[]> = {
  ServiceEntry: [
    path('HOSTS', 'spec', 'hosts'),
    path('LOCATION', 'spec', 'location'),
    path('RESOLUTION', 'spec', 'resolution'),
    AGE,
    SOURCE,
  ],
  VirtualService: [path('GATEWAYS', 'spec', 'gateways'), path('HOSTS', 'spec', 'hosts'), AGE, SOURCE],
  Gateway: [AGE, SOURCE],
  DestinationRule: [path('HOST', 'spec', 'host'), AGE, SOURCE],
  Sidecar: [AGE, SOURCE],
  IstioOperator: [path('REVISION', 'spec', 'revision'), AGE, SOURCE],
  IstioGateway: [path('TYPE', 'spec', 'gatewayType'), AGE, SOURCE],
  ServiceAccount: [{ header: 'SECRETS', value: () => '0' }, AGE, SOURCE],
  Service: [
    { header: 'TYPE', value: ({ object }) => String(field(object, 'spec', 'type') ?? 'ClusterIP') },
    // Local mode gives a Service no virtual IP: its name resolves to the pods' own addresses.
    { header: 'CLUSTER-IP', value: () => NONE },
    { header: 'EXTERNAL-IP', value: () => NONE },
    { header: 'PORT(S)', value: servicePorts },
    AGE,
    { header: 'SELECTOR', value: ({ object }) => labels(field(object, 'spec', 'selector')), wide: true },
    SOURCE,
  ],
  Deployment: [
    {
      header: 'READY',
      value: (row, ctx) => `${replicaCount(row, ctx, (p) => p.synced && p.ready)}/${podsOf(row, ctx).length}`,
    },
    { header: 'UP-TO-DATE', value: (row, ctx) => String(replicaCount(row, ctx, (p) => p.synced)) },
    { header: 'AVAILABLE', value: (row, ctx) => String(replicaCount(row, ctx, (p) => p.connected)) },
    AGE,
    {
      header: 'CONTAINERS',
      value: (row) =>
        containers(row)
          .map((c) => String(c.name))
          .join(',') || NONE,
      wide: true,
    },
    {
      header: 'IMAGES',
      value: (row) =>
        containers(row)
          .map((c) => String(c.image))
          .join(',') || NONE,
      wide: true,
    },
    {
      header: 'SELECTOR',
      value: ({ object }) => labels(field(object, 'spec', 'selector', 'matchLabels')),
      wide: true,
    },
    SOURCE,
  ],
};

/** kubectl's AGE: coarser as it grows ("45s", "3m12s", "15m", "5h2m", "20h", "3d4h", "200d", "2y10d"). */
export function age(created: string | undefined, now: Date): string {
  if (created === undefined) return NONE;
  const seconds = Math.floor((now.getTime() - Date.parse(created)) / 1000);
  if (Number.isNaN(seconds)) return NONE;
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRest(n: number, unit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${n}${unit}` : `${n}${unit}${rest}${restUnit}`;
}
