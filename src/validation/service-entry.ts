import type { Resource } from '../model/index.js';
import type { Findings } from './findings.js';
import {
  checkExportTo,
  checkPort,
  checkPortName,
  checkSelector,
  fqdnError,
  ipSubnetError,
  isIpAddress,
  isPartialWildcard,
  wildcardDomainError,
} from './names.js';

const HTTP_OR_TLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'TLS']);

/** Mirrors Istio's ValidateServiceEntry (pkg/config/validation/validation.go). */
export function validateServiceEntry(r: Resource<'ServiceEntry'>, f: Findings): void {
  const s = r.spec;
  if (s.workloadSelector) {
    checkSelector(f, 'spec.workloadSelector', s.workloadSelector.labels);
    if (s.endpoints.length > 0 || f.wrote('spec.endpoints')) {
      f.add(
        'EndpointsWithWorkloadSelector',
        'spec.workloadSelector',
        'only one of workloadSelector or endpoints is allowed in a ServiceEntry',
        'keep endpoints for external hosts, workloadSelector for MESH_INTERNAL workloads',
      );
    }
  }

  if (s.hosts.length === 0)
    f.add(
      'ServiceEntryNoHosts',
      'spec.hosts',
      'service entry must have at least one host',
      'add the external DNS name, e.g. hosts: [api.example.com]',
    );
  s.hosts.forEach((h, i) => {
    const field = `spec.hosts[${i}]`;
    if (h === '*') {
      f.add(
        'InvalidHostname',
        field,
        'invalid host *: a ServiceEntry cannot match every host',
        'list the hosts, or a wildcard domain such as "*.example.com"',
      );
      return;
    }
    const err = wildcardDomainError(h);
    if (err) f.add('InvalidHostname', field, err);
    if (isPartialWildcard(h))
      f.add(
        'PartialWildcardHost',
        field,
        `partial wildcard "${h}" not allowed`,
        'use a whole leading label: "*.example.com"',
      );
  });

  let cidr = false;
  s.addresses.forEach((a, i) => {
    cidr ||= a.includes('/');
    const err = ipSubnetError(a);
    if (err) f.add('InvalidAddress', `spec.addresses[${i}]`, err);
  });
  if (cidr && s.resolution !== 'NONE' && s.resolution !== 'STATIC') {
    f.add(
      'CidrRequiresNoneOrStatic',
      'spec.addresses',
      `CIDR addresses are allowed only for NONE/STATIC resolution types, not ${s.resolution}`,
      'use single IPs, or resolution NONE/STATIC',
    );
  }

  const names = new Set<string>();
  const numbers = new Set<number>();
  s.ports.forEach((p, i) => {
    const field = `spec.ports[${i}]`;
    if (names.has(p.name))
      f.add('DuplicatePortName', `${field}.name`, `service entry port name "${p.name}" already defined`);
    if (numbers.has(p.number))
      f.add('DuplicatePortNumber', `${field}.number`, `service entry port ${p.number} already defined`);
    names.add(p.name);
    numbers.add(p.number);
    checkPortName(f, `${field}.name`, p.name);
    checkPort(f, `${field}.number`, p.number);
    if (p.targetPort !== undefined) {
      checkPort(f, `${field}.targetPort`, p.targetPort);
      if (s.resolution === 'NONE')
        f.add(
          'TargetPortIgnored',
          `${field}.targetPort`,
          'targetPort has no effect when resolution mode is NONE',
          'use resolution DNS or STATIC to change the upstream port',
        );
    }
    // A TCP port without addresses is the analyzers' IST0134, so the mistake is reported once.
  });

  switch (s.resolution) {
    case 'NONE':
      if (s.endpoints.length > 0)
        f.add(
          'EndpointsWithResolutionNone',
          'spec.endpoints',
          'no endpoints should be provided for resolution type NONE',
          'use resolution STATIC or DNS with endpoints',
        );
      if (s.workloadSelector)
        f.add(
          'SelectorIgnoredByResolution',
          'spec.workloadSelector',
          'workloadSelector should not be set when resolution mode is NONE',
        );
      break;
    case 'STATIC':
      s.endpoints.forEach((e, i) => {
        if (e.address === '' && e.network === undefined)
          f.add('InvalidEndpointAddress', `spec.endpoints[${i}]`, 'address is required');
        else if (e.address !== '' && !e.address.startsWith('unix://') && !isIpAddress(e.address)) {
          f.add(
            'InvalidEndpointAddress',
            `spec.endpoints[${i}].address`,
            `endpoint address "${e.address}" is not a valid IP address`,
            'STATIC endpoints are IPs; use resolution DNS for host names',
          );
        }
      });
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      if (s.endpoints.length === 0) {
        s.hosts.forEach((h, i) => {
          if (fqdnError(h)) {
            f.add(
              'DnsHostNotFqdn',
              `spec.hosts[${i}]`,
              `hosts must be FQDN if no endpoints are provided for resolution mode ${s.resolution}: "${h}"`,
              'list concrete host names, add endpoints, or use resolution NONE for wildcards',
            );
          }
        });
      }
      if (s.resolution === 'DNS_ROUND_ROBIN' && s.endpoints.length > 1) {
        f.add(
          'DnsRoundRobinEndpoints',
          'spec.endpoints',
          `there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN, found ${s.endpoints.length}`,
          'use resolution DNS for several endpoints',
        );
      }
      s.endpoints.forEach((e, i) => {
        if (!isIpAddress(e.address) && fqdnError(e.address)) {
          f.add(
            'InvalidEndpointAddress',
            `spec.endpoints[${i}].address`,
            `endpoint address "${e.address}" is not a valid FQDN or an IP address`,
          );
        }
      });
      if (s.workloadSelector)
        f.add(
          'SelectorIgnoredByResolution',
          'spec.workloadSelector',
          `workloadSelector should not be set when resolution mode is ${s.resolution}`,
        );
      break;
    case 'DYNAMIC_DNS':
      if (s.hosts.some((h) => !h.startsWith('*.')))
        f.add('DynamicDnsRules', 'spec.hosts', 'resolution DYNAMIC_DNS requires wildcard hosts ("*.example.com")');
      if (s.addresses.length > 0)
        f.add('DynamicDnsRules', 'spec.addresses', 'resolution DYNAMIC_DNS cannot have addresses');
      if (s.endpoints.length > 0)
        f.add('DynamicDnsRules', 'spec.endpoints', 'resolution DYNAMIC_DNS cannot have endpoints');
      break;
  }

  s.endpoints.forEach((e, i) => {
    for (const [name, port] of Object.entries(e.ports)) {
      const field = `spec.endpoints[${i}].ports.${name}`;
      if (!names.has(name))
        f.add(
          'EndpointPortNotDeclared',
          field,
          `endpoint port ${name}: ${port} is not defined by the service entry`,
          `declare a port named "${name}" in spec.ports`,
        );
      checkPort(f, field, port);
    }
  });

  // Several hosts on a plain TCP port cannot be told apart unless resolution is NONE (hosts then ignored).
  if (s.resolution !== 'NONE' && s.hosts.length > 1) {
    const tcp = s.ports.findIndex((p) => !HTTP_OR_TLS.has(p.protocol));
    if (tcp >= 0)
      f.add(
        'MultipleHostsTcpPort',
        `spec.ports[${tcp}]`,
        'multiple hosts provided with non-HTTP, non-TLS ports',
        'split the hosts into one ServiceEntry each, or use an HTTP/TLS protocol',
      );
  }

  checkExportTo(f, r.meta.namespace, s.exportTo, true);
}
