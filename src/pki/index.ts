export { generateKeyPair, issueCertificate, privateKeyPem, toPem } from './certificate.js';
export type { CertificateSpec, DistinguishedName, Issuer, KeyPair } from './certificate.js';
export { LocalCa } from './local-ca.js';
export type { IssuedCertificate, LeafSpec } from './local-ca.js';
