import type { AnyResource, Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { writtenTls } from './client-tls.js';
import { finding } from './codes.js';
import type { AnalysisEnvironment } from './environment.js';
import { gatewayKey } from './rule-scope.js';

interface FileUse {
  readonly resource: AnyResource;
  readonly field: string;
  readonly path: string;
  /** What fails when it cannot be read. */
  readonly consequence: string;
}

/** The certificate files Gateway servers name: only terminating modes without a credentialName read them. */
function serverFiles(snapshot: Snapshot): FileUse[] {
  const out: FileUse[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    gw.spec.servers.forEach((server, i) => {
      const t = server.tls;
      if (!t || t.credentialName || (t.mode !== 'SIMPLE' && t.mode !== 'MUTUAL' && t.mode !== 'OPTIONAL_MUTUAL'))
        return;
      const consequence = `Gateway ${gatewayKey(gw)} cannot terminate TLS on port ${server.port.number} and fails every handshake there`;
      const files = [
        ['serverCertificate', t.serverCertificate],
        ['privateKey', t.privateKey],
        ['caCertificates', t.caCertificates],
      ] as const;
      for (const [key, path] of files) {
        if (path) out.push({ resource: gw, field: `spec.servers[${i}].tls.${key}`, path, consequence });
      }
    });
  }
  return out;
}

/** The certificate files DestinationRules name: SIMPLE reads the CA, MUTUAL the client certificate and key too. */
function clientFiles(snapshot: Snapshot): FileUse[] {
  const out: FileUse[] = [];
  for (const dr of snapshot.byKind.DestinationRule) {
    for (const { tls: t, field, port } of writtenTls(dr)) {
      if (t.credentialName || (t.mode !== 'SIMPLE' && t.mode !== 'MUTUAL')) continue;
      const consequence = `proxies using it cannot originate ${t.mode} TLS to ${dr.spec.host}${port !== undefined ? `:${port}` : ''} and their connections there fail`;
      const files = [
        ['caCertificates', t.caCertificates],
        ...(t.mode === 'MUTUAL'
          ? ([
              ['clientCertificate', t.clientCertificate],
              ['privateKey', t.privateKey],
            ] as const)
          : []),
      ] as const;
      for (const [key, path] of files) {
        if (path) out.push({ resource: dr, field: `${field}.${key}`, path, consequence });
      }
    }
  }
  return out;
}

/**
 * TG1016: a certificate, key or CA file named by a Gateway server or a DestinationRule that cannot be read. Proxies
 * read such paths on their own host when they load a config; in local mode that is this host, which is the only
 * one analysis can look at, so this is a warning that says so. Skipped when no file capability is given.
 */
export function analyzeCertificateFiles(snapshot: Snapshot, env: AnalysisEnvironment): Diagnostic[] {
  const readable = env.fileReadable;
  if (!readable) return [];
  return [...serverFiles(snapshot), ...clientFiles(snapshot)]
    .filter((f) => !readable(f.path))
    .map((f) =>
      finding(
        'CertificateFileUnreadable',
        f.resource,
        f.field,
        `${f.path} cannot be read on this host. Proxies read certificate files on their own host; in local mode (tollgate up) that is this one, so ${f.consequence}. In the separate-process layout the proxies may run elsewhere: check the file there.`,
        'Create the file (readable by the user the proxies run as), fix the path, or use credentialName with a folder under secrets/ in the config directory.',
      ),
    );
}
