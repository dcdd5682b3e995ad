import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';
import type { Snapshot } from '../snapshot/index.js';
import { compileLogFormat } from '../observability/index.js';
import { translateGateway } from './gateway.js';
import { translateSidecar } from './sidecar.js';

/** The last format checked: one push translates for every proxy, and they all share the mesh's format. */
let lastFormat: { readonly format: string; readonly encoding: string; readonly ok: boolean } | undefined;

function formatCompiles(format: string, encoding: 'JSON' | 'TEXT'): boolean {
  if (format === '') return false;
  if (lastFormat?.format !== format || lastFormat.encoding !== encoding) {
    lastFormat = { format, encoding, ok: !('message' in compileLogFormat(format, encoding)) };
  }
  return lastFormat.ok;
}

/** Pure: the proxy's config from its identity and the snapshot; no clock, environment or randomness. */
export function translate(node: NodeIdentity, snapshot: Snapshot): ProxyConfig {
  const parts = node.type === 'router' ? translateGateway(node, snapshot) : translateSidecar(node, snapshot);
  const mesh = snapshot.mesh;
  return {
    version: snapshot.version,
    node,
    ...parts,
    accessLog: {
      enabled: mesh.accessLogFile !== '',
      path: mesh.accessLogFile,
      encoding: mesh.accessLogEncoding,
      // A format that does not compile is left out, and the default written, as Istio falls back; analysis says why.
      ...(formatCompiles(mesh.accessLogFormat, mesh.accessLogEncoding) ? { format: mesh.accessLogFormat } : {}),
    },
    // Istio's default (BASE) is left implicit, so configs stay as they were for the common case.
    ...(mesh.pathNormalization !== 'BASE' ? { pathNormalization: mesh.pathNormalization } : {}),
  };
}

/**
 * What of a node its config depends on besides its address: proxies with the same key get the same config but for
 * `node` and the listeners' bind address (see retarget). A gateway's name picks its declaration; a sidecar's
 * namespace and labels pick its Sidecar resource, visibility and sourceLabels matches.
 */
export function translationKey(node: NodeIdentity): string {
  const labels = Object.keys(node.labels)
    .sort()
    .map((k) => [k, node.labels[k]]);
  return JSON.stringify([node.type, node.type === 'router' ? node.name : '', node.namespace, labels]);
}

/**
 * The config `translate` gives `node`, made from one translated for another node with the same translationKey:
 * the route configs and clusters are shared, not copied (the controller serializes them once for every proxy).
 */
export function retarget(config: ProxyConfig, node: NodeIdentity): ProxyConfig {
  if (config.node === node) return config;
  const from = config.node.ip;
  return {
    ...config,
    node,
    listeners: config.listeners.map((l) => (l.address === from ? { ...l, address: node.ip } : l)),
  };
}
