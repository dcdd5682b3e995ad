// A certificate authority held in memory: the mesh CA's signing half, and the local CAs that stand-ins and tests
// create for the sites they pretend to be.
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { generateKeyPair, issueCertificate, privateKeyPem } from './certificate.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Backdated a little, so a peer whose clock runs slightly behind still accepts a certificate issued just now. */
const BACKDATE_MS = 5 * 60 * 1000;

export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly keyPem: string;
}

export interface LeafSpec {
  readonly commonName?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly uris?: readonly string[];
  readonly validityDays?: number;
}

export class LocalCa {
  private constructor(
    readonly certificatePem: string,
    private readonly key: KeyObject,
    private readonly certificate: X509Certificate,
    readonly keyPem: string,
  ) {}

  static create(commonName: string, validityDays = 3650, now = Date.now()): LocalCa {
    const keys = generateKeyPair();
    const pem = issueCertificate({
      subject: { commonName, organization: 'tollgate' },
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + validityDays * DAY_MS),
      isCa: true,
    });
    return new LocalCa(pem, keys.privateKey, new X509Certificate(pem), privateKeyPem(keys.privateKey));
  }

  /** A CA from its certificate and key (PEM). Throws when they are not a CA certificate and its key. */
  static load(certificatePem: string, keyPem: string): LocalCa {
    const certificate = new X509Certificate(certificatePem);
    const key = createPrivateKey(keyPem);
    if (!certificate.ca) throw new Error('the certificate is not a CA certificate');
    if (!certificate.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate');
    return new LocalCa(certificatePem, key, certificate, keyPem);
  }

  get notAfter(): Date {
    return new Date(this.certificate.validTo);
  }

  /** A certificate for a public key someone else holds (a proxy's, for its mesh identity). */
  issueFor(publicKey: KeyObject, spec: LeafSpec, now = Date.now()): string {
    return issueCertificate({
      subject: { ...(spec.commonName !== undefined ? { commonName: spec.commonName } : {}) },
      publicKey,
      issuer: { certificate: this.certificate, privateKey: this.key },
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + (spec.validityDays ?? 1) * DAY_MS),
      isCa: false,
      ...(spec.dnsNames ? { dnsNames: spec.dnsNames } : {}),
      ...(spec.ipAddresses ? { ipAddresses: spec.ipAddresses } : {}),
      ...(spec.uris ? { uris: spec.uris } : {}),
    });
  }

  /** A new key and a certificate for it. */
  issue(spec: LeafSpec, now = Date.now()): IssuedCertificate {
    const keys = generateKeyPair();
    return { certificatePem: this.issueFor(keys.publicKey, spec, now), keyPem: privateKeyPem(keys.privateKey) };
  }
}
