import type { AnyResource, Diagnostic, Resource } from '../../model/index.js';
import { credential } from '../credentials.js';
import { labelsMatch } from '../labels.js';
import type { ProxyDeclaration, Snapshot, TlsSecret } from '../types.js';
import { writtenTls } from './client-tls.js';
import { finding } from './codes.js';
import type { AnalysisEnvironment } from './environment.js';
import { RuleConsumers } from './rule-consumers.js';
import { gatewayKey } from './rule-scope.js';

/** The parts of a credential a use needs, in the words of the files that hold them. */
const PARTS = {
  certificateChain: 'certificate (tls.crt or cert)',
  privateKey: 'private key (tls.key or key)',
  trustedCa: 'CA certificate (ca.crt or cacert, or a "-cacert" companion secret)',
} as const;

type Part = keyof typeof PARTS;

/** "tls.crt and tls.key (or cert and key)": the files that hold the parts, as a Kubernetes TLS or generic secret. */
function fileNames(needs: readonly Part[]): string {
  const parts: readonly Part[] = needs.length > 0 ? needs : ['trustedCa'];
  const tls = { certificateChain: 'tls.crt', privateKey: 'tls.key', trustedCa: 'ca.crt' };
  const generic = { certificateChain: 'cert', privateKey: 'key', trustedCa: 'cacert' };
  const list = (names: Record<Part, string>): string => {
    const all = parts.map((p) => names[p]);
    return all.length > 1 ? `${all.slice(0, -1).join(', ')} and ${all.at(-1)}` : (all[0] ?? '');
  };
  return `${list(tls)} (or ${list(generic)})`;
}

function missingParts(secret: TlsSecret, needs: readonly Part[]): string[] {
  return needs.filter((p) => secret[p] === undefined).map((p) => PARTS[p]);
}

function folder(namespace: string, name: string): string {
  return `secrets/${namespace}/${name}/`;
}

function proxyList(proxies: readonly ProxyDeclaration[]): string {
  return proxies.map((p) => `${p.type === 'router' ? 'gateway' : 'sidecar'} ${p.name}.${p.namespace}`).join(', ');
}

interface Use {
  readonly resource: AnyResource;
  readonly field: string;
  readonly name: string;
  readonly needs: readonly Part[];
  /** What fails without it. */
  readonly consequence: string;
  /** Said after the hint when it helps: where else the user may have put the credential. */
  readonly note?: string;
}

function check(snapshot: Snapshot, use: Use, namespaces: readonly string[], who: string): Diagnostic[] {
  const absent = namespaces.filter((ns) => credential(snapshot, ns, use.name) === undefined);
  const out: Diagnostic[] = [];
  if (absent.length > 0) {
    out.push(
      finding(
        'CredentialNotFound',
        use.resource,
        use.field,
        `credentialName ${use.name}: ${who} read it from namespace${absent.length > 1 ? 's' : ''} ${absent.join(', ')}, and the config directory has no ${absent.map((ns) => folder(ns, use.name)).join(' or ')}: ${use.consequence}.`,
        `Create ${folder(absent[0] ?? '', use.name)} with ${fileNames(use.needs)}, or fix the name.${use.note ? ` ${use.note}` : ''}`,
      ),
    );
  }
  for (const ns of namespaces) {
    const secret = credential(snapshot, ns, use.name);
    const lacking = secret ? missingParts(secret, use.needs) : [];
    if (!secret || lacking.length === 0) continue;
    out.push(
      finding(
        'CredentialIncomplete',
        use.resource,
        use.field,
        `credentialName ${use.name}: secret ${ns}/${use.name} (${secret.source}) has no ${lacking.join(' and no ')}: ${use.consequence}.`,
        `Add the missing file${lacking.length > 1 ? 's' : ''} to ${folder(ns, use.name)}.`,
      ),
    );
  }
  return out;
}

/** The gateway workloads a Gateway selects: their namespaces are where its servers' credentials are read. */
function selectedGateways(snapshot: Snapshot, gw: Resource<'Gateway'>): ProxyDeclaration[] {
  return snapshot.proxies.filter((p) => p.type === 'router' && labelsMatch(gw.spec.selector, p.labels));
}

/**
 * TG1014 and TG1015: a credentialName whose secret folder is missing, or lacks a part the mode needs. A Gateway
 * server's credential is read by the gateway workloads it selects, from their own namespace (as in Istio, whatever
 * the Gateway resource's namespace), and needs a certificate and key (and, for MUTUAL and
 * OPTIONAL_MUTUAL, the CA client certificates are checked against). A DestinationRule's credential is read by each
 * proxy that uses the rule, from the proxy's own namespace (at an egress gateway: the gateway's namespace); MUTUAL
 * needs a certificate and key. Skipped when the secrets folder was not read (files analyzed on their own).
 */
export function analyzeCredentialNames(snapshot: Snapshot, env: AnalysisEnvironment): Diagnostic[] {
  if (!env.secretsRead) return [];
  const out: Diagnostic[] = [];
  for (const gw of snapshot.byKind.Gateway) {
    gw.spec.servers.forEach((server, i) => {
      const t = server.tls;
      if (!t?.credentialName || (t.mode !== 'SIMPLE' && t.mode !== 'MUTUAL' && t.mode !== 'OPTIONAL_MUTUAL')) return;
      const use: Use = {
        resource: gw,
        field: `spec.servers[${i}].tls.credentialName`,
        name: t.credentialName,
        needs:
          t.mode === 'SIMPLE' ? ['certificateChain', 'privateKey'] : ['certificateChain', 'privateKey', 'trustedCa'],
        consequence: `Gateway ${gatewayKey(gw)} cannot terminate TLS on port ${server.port.number} and fails every handshake there`,
      };
      const selected = selectedGateways(snapshot, gw);
      const namespaces = [...new Set(selected.map((p) => p.namespace))].sort();
      if (namespaces.length > 0) out.push(...check(snapshot, use, namespaces, `its gateways (${proxyList(selected)})`));
    });
  }
  let consumers: RuleConsumers | undefined;
  for (const dr of snapshot.byKind.DestinationRule) {
    for (const block of writtenTls(dr)) {
      const t = block.tls;
      if (!t.credentialName || (t.mode !== 'SIMPLE' && t.mode !== 'MUTUAL')) continue;
      consumers ??= new RuleConsumers(snapshot);
      const proxies = consumers.of(dr, block.subset);
      if (proxies.length === 0) continue;
      const use: Use = {
        resource: dr,
        field: `${block.field}.credentialName`,
        name: t.credentialName,
        needs: t.mode === 'MUTUAL' ? ['certificateChain', 'privateKey'] : [],
        consequence: `they cannot originate ${t.mode} TLS to ${dr.spec.host}${block.port !== undefined ? `:${block.port}` : ''} and their connections there fail`,
      };
      const namespaces = [...new Set(proxies.map((p) => p.namespace))].sort();
      out.push(...check(snapshot, use, namespaces, `the proxies using it (${proxyList(proxies)})`));
    }
  }
  return out;
}
