import type { AnyResource, Diagnostic, DiagnosticLevel } from '../../model/index.js';

/**
 * Cross-resource findings. IST codes reuse istioctl analyze's code, name and level; TG1xxx are tollgate's own
 * analyzer codes (TG0xxx belong to ingest and per-resource validation).
 */
export const ANALYZER_CODES = {
  ReferencedResourceNotFound: { code: 'IST0101', level: 'error' },
  GatewayPortNotDefinedOnService: { code: 'IST0162', level: 'warning' },
  VirtualServiceHostNotFoundInGateway: { code: 'IST0132', level: 'warning' },
  VirtualServiceNotBoundToMesh: { code: 'TG1001', level: 'info' },
} as const satisfies Record<string, { code: string; level: DiagnosticLevel }>;

export type AnalyzerCodeName = keyof typeof ANALYZER_CODES;

export function finding(
  name: AnalyzerCodeName,
  resource: AnyResource,
  field: string,
  message: string,
  hint: string,
): Diagnostic {
  const info = ANALYZER_CODES[name];
  return {
    code: info.code,
    name,
    level: info.level,
    message,
    position: resource.positions.get(field) ?? resource.source,
    resource: { kind: resource.kind, namespace: resource.meta.namespace, name: resource.meta.name },
    field,
    hint,
  };
}
