import type { GatewaySpec, ServerTLSSettings } from '../../model/index.js';
import { anything, array, bool, enumOf, int, object, optional, string, type Infer } from '../schema.js';
import { compact, defineKind, labels, optionalArray, portProtocol } from './common.js';

const serverTls = object({
  httpsRedirect: optional(bool()),
  mode: optional(enumOf(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'])),
  serverCertificate: optional(string()),
  privateKey: optional(string()),
  caCertificates: optional(string()),
  caCrl: optional(string()),
  credentialName: optional(string()),
  credentialNames: optionalArray(string()),
  tlsCertificates: optional(anything()),
  subjectAltNames: optionalArray(string()),
  verifyCertificateSpki: optionalArray(string()),
  verifyCertificateHash: optionalArray(string()),
  minProtocolVersion: optional(enumOf(['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'])),
  maxProtocolVersion: optional(enumOf(['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'])),
  cipherSuites: optionalArray(string()),
});

// Gateway ports need a protocol (Istio rejects an unset one); the name is checked by validation.
const serverPort = object({
  number: int(),
  protocol: portProtocol(),
  name: optional(string()),
  targetPort: optional(int()),
});

const server = object({
  port: serverPort,
  hosts: optionalArray(string()),
  tls: optional(serverTls),
  bind: optional(string()),
  name: optional(string()),
  defaultEndpoint: optional(string()),
});

export const gatewaySpec = object({
  selector: optional(labels()),
  servers: optional(array(server)),
});

export type ExtGateway = Infer<typeof gatewaySpec>;
type ExtServerTls = Infer<typeof serverTls>;

function normalizeTls(t: ExtServerTls): ServerTLSSettings {
  // `tls: {}` on an HTTPS/TLS server is PASSTHROUGH: the proto default of ServerTLSSettings.mode.
  return compact({
    mode: t.mode ?? 'PASSTHROUGH',
    httpsRedirect: t.httpsRedirect ?? false,
    credentialName: t.credentialName,
    serverCertificate: t.serverCertificate,
    privateKey: t.privateKey,
    caCertificates: t.caCertificates,
    subjectAltNames: t.subjectAltNames ?? [],
    minProtocolVersion: t.minProtocolVersion,
    maxProtocolVersion: t.maxProtocolVersion,
  });
}

export const gatewayCodec = defineKind({
  kind: 'Gateway',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  strict: true,
  spec: gatewaySpec,
  specRequired: true,
  normalize(ext): GatewaySpec {
    return {
      selector: ext?.selector ?? {},
      servers: (ext?.servers ?? []).map((s) =>
        compact({
          port: compact({
            number: s.port.number,
            protocol: s.port.protocol,
            name: s.port.name ?? '',
            targetPort: s.port.targetPort,
          }),
          hosts: (s.hosts ?? []).map((h) => h.toLowerCase()),
          tls: s.tls ? normalizeTls(s.tls) : undefined,
          bind: s.bind,
          name: s.name,
        }),
      ),
    };
  },
});
