import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';
import type { Snapshot } from '../snapshot/index.js';
import { translateGateway } from './gateway.js';
import { translateSidecar } from './sidecar.js';

/** Pure: the proxy's config from its identity and the snapshot; no clock, environment or randomness. */
export function translate(node: NodeIdentity, snapshot: Snapshot): ProxyConfig {
  const parts = node.type === 'router' ? translateGateway(node, snapshot) : translateSidecar(node, snapshot);
  const mesh = snapshot.mesh;
  return {
    version: snapshot.version,
    node,
    ...parts,
    accessLog: { enabled: mesh.accessLogFile !== '', path: mesh.accessLogFile, encoding: mesh.accessLogEncoding },
    // Istio's default (BASE) is left implicit, so configs stay as they were for the common case.
    ...(mesh.pathNormalization !== 'BASE' ? { pathNormalization: mesh.pathNormalization } : {}),
  };
}
