// Kind names as users type them (kubectl style) and as kubectl prints them ("serviceentry.networking.istio.io").
import { KINDS, type Kind } from '../model/index.js';

const GROUPS: Record<Kind, string> = {
  ServiceEntry: 'networking.istio.io',
  Gateway: 'networking.istio.io',
  VirtualService: 'networking.istio.io',
  DestinationRule: 'networking.istio.io',
  Sidecar: 'networking.istio.io',
  IstioOperator: 'install.istio.io',
  IstioGateway: 'istio.alibabacloud.com',
  ServiceAccount: '',
  Service: '',
  Deployment: 'apps',
};

const SHORT_NAMES: Record<string, Kind> = {
  se: 'ServiceEntry',
  gw: 'Gateway',
  vs: 'VirtualService',
  dr: 'DestinationRule',
  iop: 'IstioOperator',
  sa: 'ServiceAccount',
  svc: 'Service',
  deploy: 'Deployment',
};

/** "vs", "virtualservice", "virtualservices", "VirtualService", "virtualservice.networking.istio.io" -> Kind. */
export function parseKind(input: string): Kind {
  const lower = input.toLowerCase();
  const bare = lower.split('.')[0] ?? lower;
  const short = SHORT_NAMES[bare];
  if (short) return short;
  for (const kind of KINDS) {
    const k = kind.toLowerCase();
    const plural = k.endsWith('y') ? `${k.slice(0, -1)}ies` : `${k}s`;
    if (bare === k || bare === plural) return kind;
  }
  throw new Error(
    `unknown resource type "${input}"; known: ${KINDS.join(', ')} (short: ${Object.keys(SHORT_NAMES).join(', ')})`,
  );
}

/** "serviceentry.networking.istio.io/external-svc-http", "deployment.apps/sleep", "service/sleep". */
export function qualifiedName(kind: Kind, name: string): string {
  const group = GROUPS[kind];
  return `${kind.toLowerCase()}${group ? `.${group}` : ''}/${name}`;
}
