// X.509 v3 certificates issued with Node's own crypto (EC P-256, ECDSA with SHA-256): the mesh CA's root, the
// workload certificates it signs, and the local CAs the stand-ins and tests use. Node parses and verifies
// certificates but cannot make them; the encoding here is the small part of RFC 5280 that this takes.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign, type X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  booleanTrue,
  explicit,
  implicit,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export interface DistinguishedName {
  readonly commonName?: string;
  readonly organization?: string;
}

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface Issuer {
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
}

export interface CertificateSpec {
  readonly subject: DistinguishedName;
  readonly publicKey: KeyObject;
  /** Absent: self-signed with `signingKey`. */
  readonly issuer?: Issuer;
  /** The key that signs a self-signed certificate (the subject's own). */
  readonly signingKey?: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  /** DNS names, IP addresses and URIs (SPIFFE IDs) for the subjectAltName extension. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly uris?: readonly string[];
}

export function generateKeyPair(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function name(dn: DistinguishedName): Buffer {
  const rdns: Buffer[] = [];
  if (dn.organization !== undefined) {
    rdns.push(set(sequence(objectIdentifier(OID.organization), utf8String(dn.organization))));
  }
  if (dn.commonName !== undefined) {
    rdns.push(set(sequence(objectIdentifier(OID.commonName), utf8String(dn.commonName))));
  }
  return sequence(...rdns);
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function keyIdentifier(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // Expand "::" so each of the eight groups is present.
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}

function subjectAltName(spec: CertificateSpec): Buffer | undefined {
  const names: Buffer[] = [
    ...(spec.dnsNames ?? []).map((d) => implicit(2, Buffer.from(d, 'ascii'))),
    ...(spec.ipAddresses ?? []).map((ip) => implicit(7, ipBytes(ip))),
    ...(spec.uris ?? []).map((u) => implicit(6, Buffer.from(u, 'ascii'))),
  ];
  return names.length > 0 ? sequence(...names) : undefined;
}

/** Issues a certificate; returns it as PEM. */
export function issueCertificate(spec: CertificateSpec): string {
  const signer = spec.issuer?.privateKey ?? spec.signingKey;
  if (!signer) throw new Error('a self-signed certificate needs its signing key');
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const issuerSpki = spec.issuer ? spec.issuer.certificate.publicKey.export({ type: 'spki', format: 'der' }) : spki;
  const issuerName = spec.issuer ? issuerNameDer(spec.issuer.certificate) : name(spec.subject);
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));

  const extensions: Buffer[] = [
    extension(OID.basicConstraints, true, spec.isCa ? sequence(booleanTrue()) : sequence()),
    // keyCertSign + cRLSign for a CA; digitalSignature + keyEncipherment for a leaf.
    extension(OID.keyUsage, true, spec.isCa ? bitString(Buffer.from([0x06]), 1) : bitString(Buffer.from([0xa0]), 5)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, keyIdentifier(issuerSpki)))),
  ];
  if (!spec.isCa) {
    extensions.push(
      extension(OID.extKeyUsage, false, sequence(objectIdentifier(OID.serverAuth), objectIdentifier(OID.clientAuth))),
    );
  }
  const san = subjectAltName(spec);
  // With an empty subject the names live only here, and RFC 5280 then wants the extension critical.
  const emptySubject = spec.subject.commonName === undefined && spec.subject.organization === undefined;
  if (san) extensions.push(extension(OID.subjectAltName, emptySubject, san));

  // A positive 16-byte serial: random, so re-issued certificates never collide.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    algorithm,
    issuerName,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = sequence(tbs, algorithm, bitString(signature));
  return toPem(der);
}

/** The issuer's subject Name exactly as encoded in its certificate (so chains match byte for byte). */
function issuerNameDer(cert: X509Certificate): Buffer {
  // Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version, serial, algorithm, issuer, validity, subject, ... } }
  const tbs = children(cert.raw)[0]!;
  return children(tbs)[5]!;
}

/** The TLVs inside a constructed TLV. */
function children(tlvBytes: Buffer): Buffer[] {
  const { headerLength, length } = header(tlvBytes, 0);
  const out: Buffer[] = [];
  let pos = headerLength;
  const end = headerLength + length;
  while (pos < end) {
    const h = header(tlvBytes, pos);
    out.push(tlvBytes.subarray(pos, pos + h.headerLength + h.length));
    pos += h.headerLength + h.length;
  }
  return out;
}

function header(buf: Buffer, pos: number): { headerLength: number; length: number } {
  const first = buf[pos + 1]!;
  if (first < 0x80) return { headerLength: 2, length: first };
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + buf[pos + 2 + i]!;
  return { headerLength: 2 + count, length };
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.endsWith('\n') ? b64 : `${b64}\n`}-----END ${label}-----\n`;
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
