import type { Resource } from '../model/index.js';
import type { Findings } from './findings.js';
import {
  checkPort,
  checkSelector,
  isDns1123Label,
  isIpAddress,
  isPartialWildcard,
  wildcardDomainError,
} from './names.js';

/** "namespace/dnsName" as a Sidecar egress host (Istio ValidateNamespaceSlashWildcardHostname, sidecar form). */
export function sidecarHostError(host: string): string | undefined {
  const slash = host.indexOf('/');
  if (slash < 0) return `host "${host}" must be of form namespace/dnsName`;
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  if (ns === '' || name === '') return 'config namespace and dnsName in host entry cannot be empty';
  if (ns !== '*' && ns !== '.' && ns !== '~' && !isDns1123Label(ns))
    return `invalid namespace value "${ns}" in sidecar`;
  if (name !== '*' && !name.includes('.')) return `short names (non FQDN) are not allowed: "${name}"`;
  const err = wildcardDomainError(name);
  if (err) return err;
  if (isPartialWildcard(name)) return `partial wildcard "${name}" not allowed`;
  return undefined;
}

/** Mirrors Istio's ValidateSidecar for the egress side (ingress listeners are not modelled). */
export function validateSidecar(r: Resource<'Sidecar'>, f: Findings): void {
  const s = r.spec;
  if (s.workloadSelector) checkSelector(f, 'spec.workloadSelector', s.workloadSelector.labels);
  if (
    s.egress.length === 0 &&
    !f.wrote('spec.ingress') &&
    !s.outboundTrafficPolicy &&
    !f.wrote('spec.inboundConnectionPool')
  ) {
    f.add(
      'SidecarEmpty',
      'spec',
      'sidecar: empty configuration provided',
      'add egress listeners or an outboundTrafficPolicy',
    );
  }
  const ports = new Set<number>();
  let catchAll = false;
  s.egress.forEach((e, i) => {
    const field = `spec.egress[${i}]`;
    if (!e.port) {
      if (catchAll) f.add('SidecarCatchAllEgress', field, 'sidecar: egress can have only one listener with empty port');
      else if (i !== s.egress.length - 1)
        f.add(
          'SidecarCatchAllEgress',
          field,
          'sidecar: the egress listener with empty port should be the last listener in the list',
        );
      catchAll = true;
    } else {
      checkPort(f, `${field}.port.number`, e.port.number);
      if (e.port.name && !isDns1123Label(e.port.name))
        f.add('InvalidPortName', `${field}.port.name`, `invalid port name: ${e.port.name}`);
      if (ports.has(e.port.number))
        f.add(
          'SidecarDuplicatePort',
          `${field}.port`,
          `sidecar: ports on IP bound listeners must be unique (port ${e.port.number})`,
        );
      ports.add(e.port.number);
      if (e.bind && !e.bind.startsWith('unix://') && !isIpAddress(e.bind))
        f.add('InvalidAddress', `${field}.bind`, `${e.bind} is not a valid IP`);
    }
    if (e.hosts.length === 0)
      f.add(
        'SidecarEgressNoHosts',
        `${field}.hosts`,
        'sidecar: egress listener must contain at least one host',
        'add hosts such as "./*" or "istio-system/*"',
      );
    const seen = new Map<string, Set<string>>();
    e.hosts.forEach((h, j) => {
      const hf = `${field}.hosts[${j}]`;
      const err = sidecarHostError(h);
      if (err) {
        f.add(
          'SidecarEgressHostFormat',
          hf,
          err,
          'write "namespace/host", e.g. "./*", "istio-system/*" or "*/api.example.com"',
        );
        return;
      }
      const slash = h.indexOf('/');
      const ns = h.slice(0, slash) === '.' ? r.meta.namespace : h.slice(0, slash);
      const svc = h.slice(slash + 1);
      const hosts = seen.get(ns) ?? new Set<string>();
      if ((svc !== '*' && (hosts.has(svc) || hosts.has('*'))) || (svc === '*' && hosts.size > 0)) {
        f.add('SidecarDuplicateHost', hf, `duplicated egress host: ${h}`);
      }
      hosts.add(svc);
      seen.set(ns, hosts);
    });
    if (seen.get('*')?.has('*') && seen.size > 1)
      f.add('SidecarDuplicateHost', `${field}.hosts`, '`*/*` host selects all resources, no other hosts can be added');
  });
}
