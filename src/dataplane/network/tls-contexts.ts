// TLS settings compiled once per push: secure contexts for the chains that terminate TLS, connection options for
// the clusters that originate it. Certificate material that cannot be loaded does not reject the whole config:
// the chain or cluster is compiled as broken, with the reason, and only the connections that need it fail (with
// that reason in the access log), as Envoy fails a cluster whose transport socket cannot be built.
import { createHash, X509Certificate } from 'node:crypto';
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
      /** Built once from ca, cert and key, and shared by every connection (a CA bundle is costly to parse). */
      readonly secureContext: SecureContext;
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
      ca = t.trustedCa ? readPem(t.trustedCa, 'CA certificates') : defaultTrust(materials.extraTrustedCas);
      if (t.mode === 'MUTUAL') {
        if (!t.certificateChain || !t.privateKey) throw new Error('MUTUAL needs a client certificate and private key');
        cert = readPem(t.certificateChain, 'client certificate');
        key = readPem(t.privateKey, 'private key');
      }
    }
    // Parsed now, so a bad PEM is reported here and not on the first connection, and once for all connections.
    const secureContext = clientContext(ca, cert, key);
    const sans = t.subjectAltNames;
    const skip = t.insecureSkipVerify;
    return {
      ok: true,
      mode: t.mode,
      sni: t.sni,
      ca,
      cert,
      key,
      secureContext,
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

/** Where distributions keep the system's CA bundle (what Envoy in Istio's proxy image trusts by default). */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

let systemTrust: string | undefined;

/**
 * The trust of a cluster that names no CA: the system's bundle (so CAs an operator installed on the host count),
 * else Node's bundled roots; with NODE_EXTRA_CA_CERTS and the local extras (stand-ins') added. The system part is
 * read once per process.
 */
export function defaultTrust(
  extra: readonly string[] | undefined,
  source: { readonly paths: readonly string[]; readonly env: NodeJS.ProcessEnv } = {
    paths: SYSTEM_CA_BUNDLES,
    env: process.env,
  },
): string {
  const cached = source.paths === SYSTEM_CA_BUNDLES && source.env === process.env;
  let base = cached ? systemTrust : undefined;
  if (base === undefined) {
    const system = source.paths.map(readIfAny).find((text) => text !== undefined && text.includes('BEGIN CERTIFICATE'));
    const nodeExtra = source.env.NODE_EXTRA_CA_CERTS ? readIfAny(source.env.NODE_EXTRA_CA_CERTS) : undefined;
    base = [system ?? rootCertificates.join('\n'), nodeExtra ?? ''].join('\n');
    if (cached) systemTrust = base;
  }
  return extra && extra.length > 0 ? [base, ...extra].join('\n') : base;
}

function readIfAny(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Client contexts by content: pushes that keep a cluster's TLS keep its context (and its parsed CA bundle). */
const contexts = new Map<string, SecureContext>();
const MAX_CONTEXTS = 256;

function clientContext(ca: string | undefined, cert: string | undefined, key: string | undefined): SecureContext {
  const id = createHash('sha256')
    .update(ca ?? '')
    .update('\0')
    .update(cert ?? '')
    .update('\0')
    .update(key ?? '')
    .digest('hex');
  const hit = contexts.get(id);
  if (hit) return hit;
  const made = createSecureContext({
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  });
  if (contexts.size >= MAX_CONTEXTS) contexts.clear();
  contexts.set(id, made);
  return made;
}

/**
 * A PEM bundle of CA certificates read from a file, every certificate in it parsed first: an empty, truncated or
 * foreign file is an error naming the file, not a trust store that silently trusts less.
 */
export function readCaBundle(file: string): string {
  const text = readPem({ file }, 'CA certificates');
  const pems = splitPem(text);
  if (pems.length === 0) throw new Error(`${file}: no PEM certificate in it`);
  pems.forEach((p, i) => {
    try {
      new X509Certificate(p);
    } catch (err) {
      throw new Error(`${file}: certificate ${i + 1} does not parse (${(err as Error).message})`);
    }
  });
  return text;
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
