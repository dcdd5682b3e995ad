import type { Snapshot, TlsSecret } from './types.js';

/**
 * A credential by name in a namespace, with its CA: the secret's own CA part, else a "<name>-cacert" secret (the
 * separate CA secret Istio also accepts). Undefined when there is no such secret.
 */
export function credential(snapshot: Snapshot, namespace: string, name: string): TlsSecret | undefined {
  const secret = snapshot.secrets.get(`${namespace}/${name}`);
  if (!secret) return undefined;
  if (secret.trustedCa !== undefined) return secret;
  const ca = snapshot.secrets.get(`${namespace}/${name}-cacert`)?.trustedCa;
  return ca !== undefined ? { ...secret, trustedCa: ca } : secret;
}
