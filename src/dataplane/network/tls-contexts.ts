// TLS settings compiled once per push: secure contexts for the chains that terminate TLS, connection options for
// the clusters that originate it. Certificate material that cannot be loaded does not reject the whole config:
// the chain or cluster is compiled as broken, with the reason, and only the connections that need it fail (with
// that reason in the access log), as Envoy fails a cluster whose transport socket cannot be built.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import {
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  rootCertificates,
  type SecureContext,
} from 'node:tls';
import type { DownstreamTls, PemSource, UpstreamTls } from '../../proxy-config/types.js';

/** Key material the proxy holds itself: its mesh identity (ISTIO_MUTUAL), pushed certificate and local key. */
export interface TlsMaterials {
  readonly identity?: {
    readonly certificateChain: string;
    readonly trustedCa: string;
    readonly privateKey: string;
  };
  /** CAs trusted beyond the public ones where a cluster names no CA of its own. */
  readonly extraTrustedCas?: readonly string[];
}

export type CompiledDownstreamTls =
  | {
      readonly ok: true;
      readonly secureContext: SecureContext;
      readonly requestCert: boolean;
      /** A client without a valid certificate is refused during the handshake. */
      readonly requireClientCert: boolean;
      /**
       * Undefined when the peer is acceptable, else why not. When a client certificate is required the handshake
       * itself has checked it against the CA; an optional one is checked here.
       */
      verifyPeer(cert: X509Certificate | undefined): string | undefined;
    }
  | { readonly ok: false; readonly reason: string };

export type CompiledUpstreamTls =
  | {
      readonly ok: true;
      readonly mode: UpstreamTls['mode'];
      /** Undefined: the request's host (HTTP) or the cluster's service host. */
      readonly sni: string | undefined;
      readonly ca: string | undefined;
      readonly cert: string | undefined;
      readonly key: string | undefined;
      readonly rejectUnauthorized: boolean;
      checkServerIdentity(servername: string, cert: PeerCertificate): Error | undefined;
    }
  | { readonly ok: false; readonly reason: string };

const PROTOCOL_VERSIONS = { 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' } as const;

/** PEM text, or the contents of the file. Throws an Error naming the file. */
function readPem(src: PemSource, what: string): string {
  if ('pem' in src) return src.pem;
  try {
    return fs.readFileSync(src.file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read ${what} ${src.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export function compileDownstreamTls(t: DownstreamTls, field: string, materials: TlsMaterials): CompiledDownstreamTls {
  try {
    if (t.unavailable) throw new Error(t.unavailable);
    let cert: string;
    let key: string;
    let ca: string | undefined;
    if (t.mode === 'ISTIO_MUTUAL') {
      const id = materials.identity;
      if (!id) throw new Error('no mesh identity issued to this proxy yet');
      cert = id.certificateChain;
      key = id.privateKey;
      ca = id.trustedCa;
    } else {
      if (!t.certificateChain || !t.privateKey) throw new Error('a server certificate and private key are required');
      cert = readPem(t.certificateChain, 'server certificate');
      key = readPem(t.privateKey, 'private key');
      ca = t.trustedCa ? readPem(t.trustedCa, 'CA certificates') : undefined;
      if ((t.mode === 'MUTUAL' || t.mode === 'OPTIONAL_MUTUAL') && ca === undefined) {
        throw new Error(`${t.mode} needs the CA bundle client certificates are checked against`);
      }
    }
    const secureContext = createSecureContext({
      cert,
      key,
      ...(ca !== undefined ? { ca } : {}),
      minVersion: PROTOCOL_VERSIONS[t.minProtocolVersion ?? 'TLSv1.2'],
      ...(t.maxProtocolVersion ? { maxVersion: PROTOCOL_VERSIONS[t.maxProtocolVersion] } : {}),
    });
    const requestCert = t.mode !== 'SIMPLE';
    const requireClientCert = t.mode === 'MUTUAL' || t.mode === 'ISTIO_MUTUAL';
    const sans = t.subjectAltNames;
    const anchors = ca !== undefined ? splitPem(ca).map((p) => new X509Certificate(p)) : [];
    return {
      ok: true,
      secureContext,
      requestCert,
      requireClientCert,
      verifyPeer(peer) {
        if (!requestCert) return undefined;
        if (!peer) return requireClientCert ? 'no client certificate' : undefined;
        if (!requireClientCert && !issuedByOneOf(peer, anchors)) return 'client certificate not issued by the CA';
        if (sans.length > 0 && !sanMatches(peer.subjectAltName, sans)) {
          return `client certificate SANs ${peer.subjectAltName ?? '(none)'} match none of ${sans.join(', ')}`;
        }
        return undefined;
      },
    };
  } catch (err) {
    return { ok: false, reason: `${field}: ${(err as Error).message}` };
  }
}

export function compileUpstreamTls(t: UpstreamTls, field: string, materials: TlsMaterials): CompiledUpstreamTls {
  try {
    if (t.unavailable) throw new Error(t.unavailable);
    let ca: string | undefined;
    let cert: string | undefined;
    let key: string | undefined;
    if (t.mode === 'ISTIO_MUTUAL') {
      const id = materials.identity;
      if (!id) throw new Error('no mesh identity issued to this proxy yet');
      ca = id.trustedCa;
      cert = id.certificateChain;
      key = id.privateKey;
    } else {
      ca = t.trustedCa ? readPem(t.trustedCa, 'CA certificates') : publicRootsAnd(materials.extraTrustedCas);
      if (t.mode === 'MUTUAL') {
        if (!t.certificateChain || !t.privateKey) throw new Error('MUTUAL needs a client certificate and private key');
        cert = readPem(t.certificateChain, 'client certificate');
        key = readPem(t.privateKey, 'private key');
      }
    }
    // Parse once now, so a bad PEM is reported here and not on the first connection.
    createSecureContext({
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
    });
    const sans = t.subjectAltNames;
    const skip = t.insecureSkipVerify;
    return {
      ok: true,
      mode: t.mode,
      sni: t.sni,
      ca,
      cert,
      key,
      rejectUnauthorized: !skip,
      checkServerIdentity(servername, peer) {
        if (skip) return undefined;
        if (sans.length > 0) {
          return sanMatches(peer.subjectaltname, sans)
            ? undefined
            : new Error(`certificate SANs ${peer.subjectaltname ?? '(none)'} match none of ${sans.join(', ')}`);
        }
        return checkServerIdentity(servername, peer);
      },
    };
  } catch (err) {
    return { ok: false, reason: `${field}: ${(err as Error).message}` };
  }
}

/** Node's public roots plus `extra`, as one bundle; undefined (Node's default store) when there is nothing extra. */
function publicRootsAnd(extra: readonly string[] | undefined): string | undefined {
  if (!extra || extra.length === 0) return undefined;
  return [...rootCertificates, ...extra].join('\n');
}

function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Directly issued by one of the anchors, signature checked, and within its validity period. */
function issuedByOneOf(cert: X509Certificate, anchors: readonly X509Certificate[]): boolean {
  const now = Date.now();
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return false;
  return anchors.some((a) => cert.checkIssued(a) && cert.verify(a.publicKey));
}

/**
 * Whether a certificate's SAN list ("DNS:a.com, URI:spiffe://...") holds one of the wanted names. URIs and IPs
 * compare exactly; a DNS SAN "*.a.com" covers one label under a.com.
 */
export function sanMatches(subjectAltName: string | undefined, wanted: readonly string[]): boolean {
  if (!subjectAltName) return false;
  const have = subjectAltName.split(', ').map((entry) => {
    const colon = entry.indexOf(':');
    return { type: entry.slice(0, colon), value: entry.slice(colon + 1) };
  });
  for (const w of wanted) {
    for (const h of have) {
      if (h.value === w) return true;
      if (h.type === 'DNS') {
        const name = w.toLowerCase();
        const san = h.value.toLowerCase();
        if (san === name) return true;
        if (san.startsWith('*.') && name.endsWith(san.slice(1)) && !name.slice(0, -san.length + 1).includes('.')) {
          return true;
        }
      }
    }
  }
  return false;
}
