import type { GatewayServer, Resource, ServerTLSSettings } from '../model/index.js';
import type { Findings } from './findings.js';
import {
  checkPort,
  checkSelector,
  isDns1123Label,
  isIpAddress,
  isPartialWildcard,
  wildcardDomainError,
} from './names.js';

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);
const TLS_PROTOCOLS = new Set(['HTTPS', 'TLS']);

/** "[namespace/]dnsName" as a Gateway server host (Istio ValidateNamespaceSlashWildcardHostname, isGateway). */
export function gatewayHostError(host: string): string | undefined {
  const slash = host.indexOf('/');
  let name = host;
  if (slash >= 0) {
    const ns = host.slice(0, slash);
    name = host.slice(slash + 1);
    if (ns === '' || name === '') return 'config namespace and dnsName in host entry cannot be empty';
    if (ns !== '*' && ns !== '.' && !isDns1123Label(ns)) return `invalid namespace value "${ns}" in gateway`;
  }
  if (name !== '*' && !name.includes('.')) return `short names (non FQDN) are not allowed: "${name}"`;
  const err = wildcardDomainError(name);
  if (err && !isIpAddress(name)) return err;
  if (isPartialWildcard(name)) return `partial wildcard "${name}" not allowed`;
  return undefined;
}

function checkTls(f: Findings, field: string, tls: ServerTLSSettings): void {
  const certs = tls.serverCertificate || tls.privateKey || tls.caCertificates;
  switch (tls.mode) {
    case 'ISTIO_MUTUAL':
      if (certs || tls.credentialName) {
        f.add(
          'InvalidServerTls',
          field,
          'ISTIO_MUTUAL TLS cannot have associated server certificate, private key, CA bundle or credentialName',
          'remove them: the mesh certificates are used',
        );
      }
      return;
    case 'PASSTHROUGH':
    case 'AUTO_PASSTHROUGH':
      if (certs || tls.credentialName)
        f.add(
          'ServerTlsCertificatesIgnored',
          field,
          `${tls.mode} mode does not use certificates, they will be ignored`,
        );
      return;
    case 'SIMPLE':
    case 'MUTUAL':
    case 'OPTIONAL_MUTUAL':
      if (tls.credentialName) return;
      if (!tls.serverCertificate)
        f.add(
          'InvalidServerTls',
          field,
          `${tls.mode === 'SIMPLE' ? 'SIMPLE' : 'MUTUAL'} TLS requires a server certificate`,
          'set credentialName, or serverCertificate and privateKey',
        );
      if (!tls.privateKey)
        f.add(
          'InvalidServerTls',
          field,
          `${tls.mode === 'SIMPLE' ? 'SIMPLE' : 'MUTUAL'} TLS requires a private key`,
          'set credentialName, or serverCertificate and privateKey',
        );
      if (tls.mode !== 'SIMPLE' && !tls.caCertificates)
        f.add(
          'InvalidServerTls',
          field,
          'MUTUAL TLS requires a client CA bundle',
          'set caCertificates or credentialName',
        );
      return;
  }
}

function validateServer(f: Findings, s: GatewayServer, i: number): void {
  const field = `spec.servers[${i}]`;
  if (s.hosts.length === 0)
    f.add(
      'ServerNoHosts',
      `${field}.hosts`,
      'server config must contain at least one host',
      'add the hosts this server accepts, e.g. hosts: [api.example.com]',
    );
  s.hosts.forEach((h, j) => {
    const err = gatewayHostError(h);
    if (err)
      f.add(
        'InvalidHostname',
        `${field}.hosts[${j}]`,
        err,
        'use "[namespace/]dnsName", e.g. "edition.cnn.com" or "*/edition.cnn.com"',
      );
  });
  checkPort(f, `${field}.port.number`, s.port.number);
  if (s.port.targetPort !== undefined)
    f.add(
      'GatewayTargetPort',
      `${field}.port.targetPort`,
      'targetPort has no impact on Gateways',
      'remove it: the gateway Service maps ports to the pod',
    );
  if (s.port.name === '')
    f.add('ServerPortNameMissing', `${field}.port`, 'port name must be set', 'add port.name, e.g. "http" or "tls"');
  if (s.bind && !s.bind.startsWith('unix://') && !isIpAddress(s.bind))
    f.add('InvalidAddress', `${field}.bind`, `${s.bind} is not a valid IP`);

  const p = s.port.protocol;
  if (TLS_PROTOCOLS.has(p) && !s.tls) {
    f.add(
      'ServerTlsRequired',
      field,
      `server must have TLS settings for HTTPS/TLS protocols (port ${s.port.number} is ${p})`,
      'add tls: {mode: PASSTHROUGH} to pass TLS through, or SIMPLE with credentialName to terminate',
    );
  } else if (!TLS_PROTOCOLS.has(p) && s.tls) {
    if (HTTP_PROTOCOLS.has(p)) {
      // Only httpsRedirect is meaningful on a plain-text HTTP server.
      const onlyRedirect =
        s.tls.mode === 'PASSTHROUGH' && !s.tls.serverCertificate && !s.tls.privateKey && !s.tls.caCertificates;
      if (!onlyRedirect)
        f.add(
          'ServerTlsNotAllowed',
          `${field}.tls`,
          'server cannot have TLS settings for plain text HTTP ports',
          'use protocol HTTPS to terminate TLS, or keep only tls.httpsRedirect',
        );
    } else {
      f.add(
        'ServerTlsNotAllowed',
        `${field}.tls`,
        `server cannot have TLS settings for non HTTPS/TLS ports (protocol ${p})`,
      );
    }
  }
  if (s.tls) checkTls(f, `${field}.tls`, s.tls);
}

/** Mirrors Istio's ValidateGateway. */
export function validateGateway(r: Resource<'Gateway'>, f: Findings): void {
  if (!isDns1123Label(r.meta.name))
    f.add(
      'InvalidGatewayName',
      'metadata.name',
      `invalid gateway name: "${r.meta.name}"`,
      'use a lower-case DNS label without dots',
    );
  if (f.wrote('spec.selector')) checkSelector(f, 'spec.selector', r.spec.selector);
  const servers = r.spec.servers;
  if (servers.length === 0)
    f.add(
      'GatewayNoServers',
      'spec.servers',
      'gateway must have at least one server',
      'add a server with port, hosts and (for HTTPS/TLS) tls',
    );
  const portNames = new Set<string>();
  const tlsByPort = new Map<number, boolean>();
  servers.forEach((s, i) => {
    validateServer(f, s, i);
    if (s.port.name !== '' && portNames.has(s.port.name)) {
      f.add(
        'DuplicateServerPortName',
        `spec.servers[${i}].port.name`,
        `port names in servers must be unique: duplicate name ${s.port.name}`,
      );
    }
    portNames.add(s.port.name);
    if (!HTTP_PROTOCOLS.has(s.port.protocol) && s.tls?.httpsRedirect) {
      f.add(
        'HttpsRedirectOnNonHttp',
        `spec.servers[${i}].tls.httpsRedirect`,
        'tls.httpsRedirect should only be used with http servers',
      );
    }
    const isTls = TLS_PROTOCOLS.has(s.port.protocol);
    const seen = tlsByPort.get(s.port.number);
    if (seen !== undefined && seen !== isTls) {
      f.add(
        'ServerProtocolConflict',
        `spec.servers[${i}].port`,
        `port ${s.port.number} mixes plain-text and TLS servers; only one kind can listen on a port`,
        'move one of the servers to another port',
      );
    }
    tlsByPort.set(s.port.number, isTls);
  });
}
