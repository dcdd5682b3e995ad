import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  OutlierDetection,
  Resource,
  TrafficPolicy,
} from '../model/index.js';
import type { Findings } from './findings.js';
import { checkExportTo, checkPort, checkSelector, isDns1123Label, wildcardDomainError } from './names.js';

/** Fields a mode reads nothing from: pilot builds ISTIO_MUTUAL from the mesh certificates, DISABLE builds no TLS. */
function ignoredFields(t: ClientTLSSettings): string[] {
  const set = (names: readonly (keyof ClientTLSSettings)[]): string[] =>
    names.filter((n) => {
      const v = t[n];
      return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false;
    });
  switch (t.mode) {
    case 'ISTIO_MUTUAL':
      return set(['credentialName', 'clientCertificate', 'privateKey', 'caCertificates']);
    case 'DISABLE':
      return set([
        'sni',
        'credentialName',
        'clientCertificate',
        'privateKey',
        'caCertificates',
        'subjectAltNames',
        'insecureSkipVerify',
      ]);
    case 'SIMPLE':
      return t.credentialName ? [] : set(['clientCertificate', 'privateKey']);
    case 'MUTUAL':
      return [];
  }
}

const IGNORED_HINT: Record<ClientTLSSettings['mode'], string> = {
  ISTIO_MUTUAL: 'remove them: ISTIO_MUTUAL uses the mesh certificates (use MUTUAL to present your own)',
  DISABLE: 'remove them, or set the mode that uses them',
  SIMPLE: 'use mode MUTUAL to present a client certificate, or remove them',
  MUTUAL: '',
};

function checkClientTls(f: Findings, field: string, t: ClientTLSSettings | undefined): void {
  if (!t) return;
  const ignored = ignoredFields(t);
  if (ignored.length > 0) {
    f.add(
      'ClientTlsSettingsIgnored',
      `${field}.${ignored[0]}`,
      `tls mode ${t.mode} does not use ${ignored.join(', ')}: ${ignored.length > 1 ? 'they are' : 'it is'} ignored`,
      IGNORED_HINT[t.mode],
    );
  }
  if (t.insecureSkipVerify) {
    if (t.mode === 'SIMPLE' && (t.caCertificates || t.credentialName || t.subjectAltNames.length > 0)) {
      f.add(
        'InvalidClientTls',
        field,
        'cannot specify caCertificates, credentialName or subjectAltNames when insecureSkipVerify is true',
      );
    }
    if (t.mode === 'MUTUAL' && (t.caCertificates || t.subjectAltNames.length > 0)) {
      f.add(
        'InvalidClientTls',
        field,
        'cannot specify caCertificates or subjectAltNames when insecureSkipVerify is true',
      );
    }
  }
  if ((t.mode === 'SIMPLE' || t.mode === 'MUTUAL') && t.credentialName) {
    if (t.clientCertificate || t.caCertificates || t.privateKey) {
      f.add(
        'InvalidClientTls',
        field,
        'cannot specify client certificates or CA certificate if credentialName is set',
        'use either credentialName or the file fields',
      );
    }
    return;
  }
  if (t.mode === 'MUTUAL') {
    if (!t.clientCertificate)
      f.add(
        'InvalidClientTls',
        field,
        'client certificate required for mutual tls',
        'set clientCertificate and privateKey, or credentialName',
      );
    if (!t.privateKey)
      f.add(
        'InvalidClientTls',
        field,
        'private key required for mutual tls',
        'set clientCertificate and privateKey, or credentialName',
      );
  }
}

function checkPercent(f: Findings, field: string, v: number | undefined): void {
  if (v !== undefined && (v < 0 || v > 100))
    f.add('InvalidTrafficPolicyValue', field, `percentage ${v} is not in range 0..100`);
}

function checkOutlier(f: Findings, field: string, o: OutlierDetection | undefined): void {
  if (!o) return;
  checkPercent(f, `${field}.maxEjectionPercent`, o.maxEjectionPercent);
  for (const k of ['intervalMs', 'baseEjectionTimeMs'] as const) {
    const v = o[k];
    if (v !== undefined && v < 1)
      f.add('InvalidTrafficPolicyValue', `${field}.${k.replace(/Ms$/, '')}`, 'duration must be at least 1ms');
  }
}

function checkPool(f: Findings, field: string, p: ConnectionPoolSettings | undefined): void {
  if (!p) return;
  if (!f.wroteBelow(field)) f.add('EmptyTrafficPolicy', field, 'connection pool must have at least one field');
  const nonNegative: [string, number | undefined][] = [
    ['tcp.maxConnections', p.tcp?.maxConnections],
    ['http.http1MaxPendingRequests', p.http?.http1MaxPendingRequests],
    ['http.http2MaxRequests', p.http?.http2MaxRequests],
    ['http.maxRequestsPerConnection', p.http?.maxRequestsPerConnection],
    ['http.maxRetries', p.http?.maxRetries],
  ];
  for (const [k, v] of nonNegative)
    if (v !== undefined && v < 0)
      f.add('InvalidTrafficPolicyValue', `${field}.${k}`, `${k.split('.')[1]} must be non-negative, got ${v}`);
  if (p.tcp?.connectTimeoutMs !== undefined && p.tcp.connectTimeoutMs < 1)
    f.add('InvalidTrafficPolicyValue', `${field}.tcp.connectTimeout`, 'duration must be at least 1ms');
}

function checkPolicy(f: Findings, field: string, p: TrafficPolicy | undefined): void {
  if (!p) return;
  if (!f.wroteBelow(field)) {
    f.add(
      'EmptyTrafficPolicy',
      field,
      'traffic policy must have at least one field',
      'remove the empty trafficPolicy or fill it',
    );
    return;
  }
  if (p.loadBalancer?.kind === 'consistentHash' && p.loadBalancer.httpCookie && !p.loadBalancer.httpCookie.name) {
    f.add(
      'InvalidTrafficPolicyValue',
      `${field}.loadBalancer.consistentHash.httpCookie`,
      'name required for httpCookie',
    );
  }
  checkPool(f, `${field}.connectionPool`, p.connectionPool);
  checkOutlier(f, `${field}.outlierDetection`, p.outlierDetection);
  checkClientTls(f, `${field}.tls`, p.tls);
  p.portLevelSettings.forEach((pl, i) => {
    const pf = `${field}.portLevelSettings[${i}]`;
    if (!f.wrote(`${pf}.port`))
      f.add('InvalidTrafficPolicyValue', `${pf}`, 'portTrafficPolicy must have valid port', 'add port: {number: N}');
    else checkPort(f, `${pf}.port.number`, pl.port);
    if (!pl.loadBalancer && !pl.connectionPool && !pl.outlierDetection && !pl.tls) {
      f.add('EmptyTrafficPolicy', pf, 'port traffic policy must have at least one field');
    }
    checkPool(f, `${pf}.connectionPool`, pl.connectionPool);
    checkOutlier(f, `${pf}.outlierDetection`, pl.outlierDetection);
    checkClientTls(f, `${pf}.tls`, pl.tls);
  });
}

/** Mirrors Istio's ValidateDestinationRule. */
export function validateDestinationRule(r: Resource<'DestinationRule'>, f: Findings): void {
  const s = r.spec;
  const hostErr = wildcardDomainError(s.host);
  if (hostErr)
    f.add('InvalidHostname', 'spec.host', hostErr, 'use the service name, e.g. "reviews" or "api.example.com"');
  checkPolicy(f, 'spec.trafficPolicy', s.trafficPolicy);
  const names = new Set<string>();
  s.subsets.forEach((sub, i) => {
    const field = `spec.subsets[${i}]`;
    if (names.has(sub.name))
      f.add(
        'DuplicateSubsetName',
        `${field}.name`,
        `duplicate subset names: ${sub.name}`,
        'give each subset a distinct name; Istio uses the first one',
      );
    names.add(sub.name);
    if (sub.name === '')
      f.add('InvalidSubsetName', `${field}.name`, 'subset name cannot be empty', 'add name: <subset>');
    else if (!isDns1123Label(sub.name))
      f.add('InvalidSubsetName', `${field}.name`, `subset name is invalid: ${sub.name}`, 'use a lower-case DNS label');
    for (const [k, v] of Object.entries(sub.labels)) {
      if (k === '' || k.includes('*') || v.includes('*'))
        f.add('InvalidLabelSelector', `${field}.labels`, `invalid subset label "${k}=${v}"`);
    }
    checkPolicy(f, `${field}.trafficPolicy`, sub.trafficPolicy);
  });
  checkExportTo(f, r.meta.namespace, s.exportTo, false);
  if (s.workloadSelector) {
    checkSelector(f, 'spec.workloadSelector', s.workloadSelector.matchLabels);
    const others = s.exportTo.filter((e) => e !== '.' && e !== r.meta.namespace);
    if (others.length > 0)
      f.add(
        'InvalidExportTo',
        'spec.exportTo',
        'destination rule with workload selector cannot have exportTo beyond current namespace',
      );
  }
}
