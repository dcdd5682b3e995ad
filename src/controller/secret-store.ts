// Credentials for credentialName, read from the config directory's secrets folder: one folder per Kubernetes-style
// secret, `secrets/<namespace>/<name>/`, holding the files of a TLS secret (tls.crt, tls.key, ca.crt) or of a
// generic one (cert, key, cacert), as Istio reads them. Polled like the YAML: a certificate rotated on disk reaches
// the proxies within a second or two.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TlsSecret } from '../snapshot/index.js';
import { SECRET_FILES } from '../translation/index.js';

export const SECRETS_DIR = 'secrets';
const POLL_MS = 1_000;
/** A credential file larger than this is not a certificate or key: skipped, with a warning. */
const MAX_FILE_BYTES = 1024 * 1024;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class SecretStore {
  private secrets = new Map<string, TlsSecret>();
  // The digest of no credentials: a folder that is absent or empty is no change.
  private digest = createHash('sha256').digest('hex');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly configDir: string,
    private readonly warn: (message: string) => void,
  ) {}

  get root(): string {
    return path.join(this.configDir, SECRETS_DIR);
  }

  /** The credentials by "namespace/name", as last read. */
  current(): ReadonlyMap<string, TlsSecret> {
    return this.secrets;
  }

  /** A value that changes whenever a credential does: part of the snapshot's fingerprint. */
  get fingerprint(): string {
    return this.digest;
  }

  /** Rereads the folder; returns whether anything changed. */
  scan(): boolean {
    const next = new Map<string, TlsSecret>();
    const hash = createHash('sha256');
    for (const namespace of listDirs(this.root)) {
      if (!NAME.test(namespace)) continue;
      for (const name of listDirs(path.join(this.root, namespace))) {
        if (!NAME.test(name)) continue;
        const dir = path.join(this.root, namespace, name);
        const secret = this.readSecret(dir);
        if (!secret) continue;
        next.set(`${namespace}/${name}`, secret);
        hash.update(
          `${namespace}/${name}\0${secret.certificateChain ?? ''}\0${secret.privateKey ?? ''}\0${secret.trustedCa ?? ''}\0`,
        );
      }
    }
    const digest = hash.digest('hex');
    if (digest === this.digest) return false;
    this.digest = digest;
    this.secrets = next;
    return true;
  }

  watch(onChange: () => void): void {
    this.timer = setInterval(() => {
      if (this.scan()) onChange();
    }, POLL_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private readSecret(dir: string): TlsSecret | undefined {
    const part = (names: readonly string[]): string | undefined => {
      for (const n of names) {
        const file = path.join(dir, n);
        try {
          const stat = fs.statSync(file);
          if (stat.size > MAX_FILE_BYTES) {
            this.warn(`secret file ${file} is over ${MAX_FILE_BYTES} bytes: skipped`);
            continue;
          }
          return fs.readFileSync(file, 'utf8');
        } catch {
          // not this name
        }
      }
      return undefined;
    };
    const certificateChain = part(SECRET_FILES.certificateChain);
    const privateKey = part(SECRET_FILES.privateKey);
    const trustedCa = part(SECRET_FILES.trustedCa);
    if (certificateChain === undefined && privateKey === undefined && trustedCa === undefined) return undefined;
    return {
      source: dir,
      ...(certificateChain !== undefined ? { certificateChain } : {}),
      ...(privateKey !== undefined ? { privateKey } : {}),
      ...(trustedCa !== undefined ? { trustedCa } : {}),
    };
  }
}

function listDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}
