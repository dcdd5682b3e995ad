import type { AnyResource } from '../model/index.js';
import type { Findings } from './findings.js';
import { isDns1123Label } from './names.js';

// Names and namespaces as the Kubernetes API server checks them (apimachinery's validation): they become file
// names, DNS names and "namespace/name" references, so a name that the API server would refuse must not get in.

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

function isDns1035Label(s: string): boolean {
  return s.length <= 63 && DNS1035_LABEL.test(s);
}

const RULES = {
  subdomain: {
    check: isDns1123Subdomain,
    what: 'a DNS-1123 subdomain: at most 253 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
  },
  dns1035: {
    check: isDns1035Label,
    what: 'a DNS-1035 label: at most 63 lower-case letters, digits and "-", starting with a letter',
  },
} as const;

export function checkMetadata(r: AnyResource, f: Findings): void {
  const { name, namespace } = r.meta;
  // A Gateway's name is checked as a DNS-1123 label with Istio's own code (TG0138), which is stricter.
  if (r.kind !== 'Gateway') {
    const rule = r.kind === 'Service' ? RULES.dns1035 : RULES.subdomain;
    if (!rule.check(name))
      f.add(
        'InvalidResourceName',
        'metadata.name',
        `invalid ${r.kind} name ${JSON.stringify(name)}: must be ${rule.what}`,
        `for example ${JSON.stringify(suggestName(name))}`,
      );
  }
  if (!isDns1123Label(namespace))
    f.add(
      'InvalidNamespace',
      'metadata.namespace',
      `invalid namespace ${JSON.stringify(namespace)}: must be a DNS-1123 label: at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit`,
      `for example ${JSON.stringify(suggestName(namespace).replace(/\./g, '-'))}`,
    );
}

function suggestName(s: string): string {
  const cleaned = s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return cleaned === '' ? 'my-name' : cleaned.slice(0, 253);
}
