// The mesh's certificate authority (istiod's CA role): a root created at first start in the state folder, and a
// short-lived certificate for each proxy's own key, naming its SPIFFE identity. Proxies keep their private keys;
// only public keys and certificates cross the discovery stream. ISTIO_MUTUAL between proxies rests on this.
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../distribution/admin-api.js';
import { LocalCa } from '../pki/index.js';
import { spiffeId } from '../proxy-config/identity.js';
import type { NodeIdentity } from '../proxy-config/types.js';

/** Istio's default workload certificate lifetime; proxies get a new one at half of it. */
export const WORKLOAD_CERT_TTL_MS = 24 * 60 * 60 * 1000;
const ROOT_VALIDITY_DAYS = 3650;

export interface IssuedIdentity {
  readonly certificateChain: string;
  readonly trustedCa: string;
  readonly issuedAt: number;
}

export class MeshCa {
  private constructor(
    private readonly ca: LocalCa,
    readonly files: { readonly cert: string; readonly key: string },
  ) {}

  get rootPem(): string {
    return this.ca.certificatePem;
  }

  /**
   * The root from `<config-dir>/.tollgate/ca/`, created there (key 0600) when absent. A root that cannot be read
   * is an error, never silently replaced: every proxy's trust hangs on it.
   */
  static loadOrCreate(configDir: string): MeshCa {
    const dir = path.join(configDir, STATE_DIR, 'ca');
    const files = { cert: path.join(dir, 'root-cert.pem'), key: path.join(dir, 'root-key.pem') };
    if (fs.existsSync(files.cert) || fs.existsSync(files.key)) {
      try {
        return new MeshCa(LocalCa.load(fs.readFileSync(files.cert, 'utf8'), fs.readFileSync(files.key, 'utf8')), files);
      } catch (err) {
        throw new Error(
          `the mesh CA in ${dir} cannot be used (${(err as Error).message}); restore root-cert.pem and root-key.pem, ` +
            'or remove both to make a new root (every proxy then gets new certificates)',
        );
      }
    }
    const ca = LocalCa.create('tollgate mesh CA', ROOT_VALIDITY_DAYS);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(files.key, ca.keyPem, { mode: 0o600 });
    fs.writeFileSync(files.cert, ca.certificatePem);
    return new MeshCa(ca, files);
  }

  /** A certificate for the proxy's public key (PEM), naming its service account's SPIFFE ID. */
  issue(node: NodeIdentity, publicKeyPem: string, now = Date.now()): IssuedIdentity {
    const certificateChain = this.ca.issueFor(
      createPublicKey(publicKeyPem),
      { uris: [spiffeId(node.namespace, node.serviceAccount)], validityDays: WORKLOAD_CERT_TTL_MS / 86_400_000 },
      now,
    );
    return { certificateChain, trustedCa: this.ca.certificatePem, issuedAt: now };
  }
}
