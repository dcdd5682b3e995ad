import { isIP } from 'node:net';
import type { Labels } from '../model/index.js';
import type { CodeName } from './codes.js';
import type { Findings } from './findings.js';

// DNS and address checks after Istio's pkg/config/validation/agent and pkg/config/labels.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

function preconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

function labelsError(domain: string, rest: string): string | undefined {
  const parts = rest.split('.');
  const tld = parts[parts.length - 1]!;
  if (/^\d+$/.test(tld)) return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i]!;
    // A trailing dot ("istio.io.") is an unambiguous absolute name.
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isDns1123Label(label)) return `domain name "${domain}" invalid (label "${label}" invalid)`;
  }
  return undefined;
}

/** An FQDN: every label a DNS-1123 label. Returns the problem, or undefined when valid. */
export function fqdnError(name: string): string | undefined {
  return preconditions(name) ?? labelsError(name, name);
}

/** A DNS name whose first label may be a wildcard ("*", "*.example.com", "*foo.example.com"). */
export function wildcardDomainError(name: string): string | undefined {
  const pre = preconditions(name);
  if (pre) return pre;
  const dot = name.indexOf('.');
  const first = dot < 0 ? name : name.slice(0, dot);
  if (!(first.length <= 63 && WILDCARD_LABEL.test(first)))
    return `domain name "${name}" invalid (label "${first}" invalid)`;
  return dot < 0 ? undefined : labelsError(name, name.slice(dot + 1));
}

/** Istio warns about wildcards that are not a whole leading label. */
export function isPartialWildcard(host: string): boolean {
  return host.includes('*') && host !== '*' && !host.startsWith('*.');
}

export function isIpAddress(s: string): boolean {
  return isIP(s) !== 0;
}

/** "a.b.c.d", "a.b.c.d/nn", IPv6 and IPv6/nn. */
export function ipSubnetError(s: string): string | undefined {
  const parts = s.split('/');
  if (parts.length === 1) return isIpAddress(s) ? undefined : `${s} is not a valid IP`;
  if (parts.length !== 2) return `${s} is not a valid CIDR block`;
  const [ip, bits] = parts as [string, string];
  const family = isIP(ip);
  const n = /^\d+$/.test(bits) ? Number(bits) : NaN;
  if (family === 0 || !(n >= 0 && n <= (family === 4 ? 32 : 128))) return `${s} is not a valid CIDR block`;
  return undefined;
}

export function checkPort(f: Findings, field: string, port: number): void {
  if (!(port >= 1 && port <= 65535)) {
    f.add(
      'InvalidPortNumber',
      field,
      `port number ${port} must be in the range 1..65535`,
      'use a port between 1 and 65535',
    );
  }
}

export function checkPortName(f: Findings, field: string, name: string): void {
  if (!isDns1123Label(name)) {
    f.add(
      'InvalidPortName',
      field,
      name === '' ? 'port name is required' : `invalid port name "${name}"`,
      'use a lower-case DNS label such as "http" or "tls-443"',
    );
  }
}

/** Label selectors: no empty keys, no wildcards (Istio ValidateAlphaWorkloadSelector / validateWorkloadSelector). */
export function checkSelector(
  f: Findings,
  field: string,
  labels: Labels,
  emptyCode: CodeName = 'EmptyWorkloadSelector',
): void {
  const entries = Object.entries(labels);
  if (entries.length === 0) {
    f.add(
      emptyCode,
      field,
      'workload selector specified without labels; it applies to every workload in the namespace',
      'add labels or remove the selector',
    );
  }
  for (const [k, v] of entries) {
    if (k === '') f.add('InvalidLabelSelector', field, `empty key is not supported in selector: "${k}=${v}"`);
    if (k.includes('*') || v.includes('*'))
      f.add('InvalidLabelSelector', field, `wildcard is not supported in selector: "${k}=${v}"`);
  }
}

/**
 * exportTo: no duplicates (with "." meaning the own namespace), "*" alone, "~" alone (Istio validateExportTo).
 * `namespace` is the resource's own; a mesh-wide default has none, and its "." stands for each resource's.
 */
export function checkExportTo(
  f: Findings,
  namespace: string | undefined,
  exportTo: readonly string[],
  allowNone: boolean,
  field = 'spec.exportTo',
): void {
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    const at = `${field}[${i}]`;
    const key = e === '.' && namespace !== undefined ? namespace : e;
    if (seen.has(key)) {
      f.add(
        'InvalidExportTo',
        at,
        key !== e
          ? `duplicate entries in exportTo: . and current namespace ${namespace}`
          : `duplicate entries in exportTo for entry ${e}`,
      );
      return;
    }
    if (e === '~' && !allowNone) f.add('InvalidExportTo', at, 'exportTo "~" is only allowed for ServiceEntries');
    else if (e !== '*' && e !== '~' && e !== '.' && !isDns1123Label(e))
      f.add('InvalidExportTo', at, `invalid exportTo value "${e}"`, 'use ".", "*" or a namespace name');
    seen.add(key);
  });
  if (seen.has('*') && exportTo.length > 1)
    f.add('InvalidExportTo', field, 'cannot have both public (*) and non-public exportTo values for a resource');
  if (seen.has('~') && exportTo.length > 1)
    f.add(
      'InvalidExportTo',
      field,
      `cannot export ${namespace === undefined ? '' : 'service entry '}to no one (~) and someone`,
    );
}
