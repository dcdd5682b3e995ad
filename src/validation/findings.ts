import type { AnyResource, Diagnostic, DiagnosticLevel, SourcePosition } from '../model/index.js';
import { makeDiagnostic, type CodeName } from './codes.js';

/** Collects one resource's diagnostics, pointing each at the closest recorded position of its field. */
export class Findings {
  readonly list: Diagnostic[] = [];

  constructor(readonly resource: AnyResource) {}

  /** The field's own position, else its nearest ancestor's, else the document start. */
  positionOf(field: string): SourcePosition {
    let path = field;
    for (;;) {
      const p = this.resource.positions.get(path);
      if (p) return p;
      const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
      if (cut <= 0) return this.resource.source;
      path = path.slice(0, cut);
    }
  }

  /** Whether the YAML set the field at all (the normalized model fills defaults, so it cannot tell). */
  wrote(field: string): boolean {
    return this.resource.positions.has(field);
  }

  /** Whether anything below the field was written (e.g. a trafficPolicy with only unmodelled fields). */
  wroteBelow(field: string): boolean {
    for (const k of this.resource.positions.keys())
      if (k.startsWith(`${field}.`) || k.startsWith(`${field}[`)) return true;
    return false;
  }

  add(name: CodeName, field: string, message: string, hint?: string, level?: DiagnosticLevel): void {
    const r = this.resource;
    this.list.push(
      makeDiagnostic(name, {
        message,
        position: this.positionOf(field),
        resource: { kind: r.kind, namespace: r.meta.namespace, name: r.meta.name },
        field,
        ...(hint ? { hint } : {}),
        ...(level ? { level } : {}),
      }),
    );
  }
}
