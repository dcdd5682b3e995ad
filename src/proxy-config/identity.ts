// Mesh identities, as Istio names them: a SPIFFE ID per service account, carried as a URI SAN on the workload's
// certificate and checked by the peer.

export const TRUST_DOMAIN = 'cluster.local';

/** "spiffe://cluster.local/ns/<namespace>/sa/<service account>". */
export function spiffeId(namespace: string, serviceAccount: string): string {
  return `spiffe://${TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`;
}
