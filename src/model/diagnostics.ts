import type { Kind, SourcePosition } from './resources.js';

export type DiagnosticLevel = 'error' | 'warning' | 'info';

/**
 * One finding about the configuration. Codes are stable: TG0xxx are tollgate's own (ingest and per-resource
 * validation), ISTxxxx reuse istioctl analyze's code and name where one exists.
 */
export interface Diagnostic {
  readonly code: string;
  /** A short stable name for the code, e.g. "ReferencedResourceNotFound". */
  readonly name: string;
  readonly level: DiagnosticLevel;
  readonly message: string;
  /** Where: the file, line and column of the field (or the document when no field applies). */
  readonly position?: SourcePosition;
  /** The resource, as "Kind namespace/name", when the finding is about one. */
  readonly resource?: { readonly kind: Kind | string; readonly namespace: string; readonly name: string };
  /** The field path, e.g. "spec.http[0].route[0].destination.host". */
  readonly field?: string;
  /** How to fix it, in one sentence. */
  readonly hint?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.level === 'error');
}

/** "file:line:col: level CODE Kind ns/name field: message (hint)" — the one text rendering used everywhere. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position ? `${d.position.file}:${d.position.line}:${d.position.col}: ` : '';
  const res = d.resource ? ` ${d.resource.kind} ${d.resource.namespace}/${d.resource.name}` : '';
  const field = d.field ? ` ${d.field}` : '';
  const hint = d.hint ? `\n    hint: ${d.hint}` : '';
  return `${where}${d.level} ${d.code}${res}${field}: ${d.message}${hint}`;
}

/**
 * The path of a field below `parent`, as diagnostics and recorded positions name it: "spec.hosts" + 2 ->
 * "spec.hosts[2]"; map keys that are not plain words are quoted: headers["x.y"].
 */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const plain = /^[A-Za-z0-9_-]+$/.test(key);
  if (!plain) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}
