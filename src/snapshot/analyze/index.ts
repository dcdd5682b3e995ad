import type { Diagnostic } from '../../model/index.js';
import type { Snapshot } from '../types.js';
import { analyzeAccessLogFormat } from './access-log-format.js';
import { analyzeBindings } from './bindings.js';
import { analyzeCertificateFiles } from './certificate-files.js';
import { analyzeConflictingGateways } from './conflicting-gateways.js';
import { analyzeCredentialNames } from './credential-names.js';
import { analyzeDuplicateSni } from './duplicate-sni.js';
import { type AnalysisEnvironment, SNAPSHOT_ONLY } from './environment.js';
import { analyzeGatewayDestinations } from './gateway-destinations.js';
import { analyzeGatewayPortTls } from './gateway-port-tls.js';
import { analyzeGatewayProxies } from './gateway-proxies.js';
import { analyzeGateways } from './gateways.js';
import { analyzeIstioMutualSni } from './istio-mutual-sni.js';
import { analyzeMeshHostConflicts } from './mesh-host-conflicts.js';
import { analyzeMeshL4RulePorts } from './mesh-l4-rule-ports.js';
import { analyzeMeshRoutePorts } from './mesh-route-ports.js';
import { analyzePassthroughServerRoutes } from './passthrough-server-routes.js';
import { analyzeServiceEntryAddresses } from './service-entry-addresses.js';
import { analyzeSidecarScope } from './sidecar-scope.js';
import { analyzeSubsetVisibility } from './subset-visibility.js';
import { analyzeTlsOriginationOnTls } from './tls-origination-on-tls.js';
import { analyzeTlsServerRoutes } from './tls-server-routes.js';
import { analyzeUnboundServerHosts } from './unbound-server-hosts.js';
import { analyzeUnreachableRules } from './unreachable-rules.js';
import { analyzeVirtualServiceRefs } from './virtual-service-refs.js';

export { ANALYZER_CODES, type AnalyzerCodeName } from './codes.js';
export { type AnalysisEnvironment, SNAPSHOT_ONLY } from './environment.js';

const ANALYZERS: readonly ((s: Snapshot, env: AnalysisEnvironment) => Diagnostic[])[] = [
  analyzeVirtualServiceRefs,
  analyzeGateways,
  analyzeBindings,
  analyzeMeshHostConflicts,
  analyzeUnreachableRules,
  analyzeServiceEntryAddresses,
  analyzeConflictingGateways,
  analyzeGatewayDestinations,
  analyzeGatewayProxies,
  analyzeSubsetVisibility,
  analyzeMeshRoutePorts,
  analyzeUnboundServerHosts,
  analyzeIstioMutualSni,
  analyzeTlsServerRoutes,
  analyzeDuplicateSni,
  analyzeSidecarScope,
  analyzePassthroughServerRoutes,
  analyzeTlsOriginationOnTls,
  analyzeMeshL4RulePorts,
  analyzeCredentialNames,
  analyzeCertificateFiles,
  analyzeGatewayPortTls,
  analyzeAccessLogFormat,
];

function compare(a: Diagnostic, b: Diagnostic): number {
  const pa = a.position;
  const pb = b.position;
  const fa = pa?.file ?? '';
  const fb = pb?.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (pa?.line ?? 0) - (pb?.line ?? 0) || (pa?.col ?? 0) - (pb?.col ?? 0);
}

/**
 * Cross-resource findings over a whole snapshot, sorted by file, line and column; findings at the same place keep
 * analyzer order, then resource order (the sort is stable). `env` says what may be checked beyond the snapshot.
 */
export function analyze(snapshot: Snapshot, env: AnalysisEnvironment = SNAPSHOT_ONLY): Diagnostic[] {
  return ANALYZERS.flatMap((a) => a(snapshot, env)).sort(compare);
}
