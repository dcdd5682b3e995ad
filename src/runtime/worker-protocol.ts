// What a proxy process's primary and its workers say to each other over the cluster IPC channel (--concurrency).
// The primary holds the discovery stream and hands each config to every worker; workers serve the listeners and
// send back apply results, access-log lines (in batches) and warnings.
import type { ConnectToRule } from '../dataplane/index.js';
import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';

/** Everything a worker needs to build its data plane; plain data, since it crosses a process boundary. */
export interface WorkerInit {
  readonly node: NodeIdentity;
  readonly dnsServers: readonly string[];
  readonly connectTo: readonly ConnectToRule[];
  readonly trustedCas: readonly string[];
  readonly identityKey: string;
  readonly controlPlane: readonly { readonly host: string; readonly port: number }[];
}

export type PrimaryMessage =
  | { readonly type: 'init'; readonly init: WorkerInit }
  | { readonly type: 'apply'; readonly id: number; readonly config: ProxyConfig }
  | { readonly type: 'stop' }
  /** Envoy's drain: keep serving what arrives, close connections after their response, stop within graceMs. */
  | { readonly type: 'drain'; readonly graceMs: number };

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'applied'; readonly id: number; readonly ok: boolean; readonly error?: string }
  /** Access-log lines, each ending in a newline. */
  | { readonly type: 'log'; readonly text: string }
  | { readonly type: 'warning'; readonly message: string }
  /** The last message of a stopping worker: everything before it has been delivered. */
  | { readonly type: 'stopped' };

const WORKER_TYPES: ReadonlySet<string> = new Set(['ready', 'applied', 'log', 'warning', 'stopped']);
const PRIMARY_TYPES: ReadonlySet<string> = new Set(['init', 'apply', 'stop', 'drain']);

function typeOf(m: unknown): string | undefined {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string'
    ? (m as { type: string }).type
    : undefined;
}

/** Messages on the channel come from this program's own processes; anything else on it is ignored. */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return WORKER_TYPES.has(typeOf(m) ?? '');
}

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return PRIMARY_TYPES.has(typeOf(m) ?? '');
}

/** How often a worker sends its access-log lines to the primary, which batches its own writes again. */
export const WORKER_LOG_INTERVAL_MS = 100;
