import type { AnyResource, Diagnostic, DiagnosticLevel, SourcePosition } from '../model/index.js';
import { makeDiagnostic, type CodeName } from './codes.js';

/** Collects one resource's diagnostics, pointing each at the closest recorded position of its field. */
export class Findings {
  readonly list: Diagnostic[] = [];
  /** Every path that has a written field below it; built on first use, so each check is one lookup. */
  private parents: Set<string> | undefined;

  constructor(readonly resource: AnyResource) {}

  /** The field's own position, else its nearest ancestor's, else the document start. */
  positionOf(field: string): SourcePosition {
    for (let path: string | undefined = field; path !== undefined; path = parentPath(path)) {
      const p = this.resource.positions.get(path);
      if (p) return p;
    }
    return this.resource.source;
  }

  /** Whether the YAML set the field at all (the normalized model fills defaults, so it cannot tell). */
  wrote(field: string): boolean {
    return this.resource.positions.has(field);
  }

  /** Whether anything below the field was written (e.g. a trafficPolicy with only unmodelled fields). */
  wroteBelow(field: string): boolean {
    if (!this.parents) {
      this.parents = new Set();
      for (const k of this.resource.positions.keys()) {
        for (let parent = parentPath(k); parent !== undefined; parent = parentPath(parent)) {
          if (this.parents.has(parent)) break;
          this.parents.add(parent);
        }
      }
    }
    return this.parents.has(field);
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

/** "a.b[2]" -> "a.b" -> "a"; a quoted key ('headers["x.y"]') is one step, whatever dots it holds. */
function parentPath(p: string): string | undefined {
  const cut = p.endsWith('"]') ? p.lastIndexOf('["') : p.endsWith(']') ? p.lastIndexOf('[') : p.lastIndexOf('.');
  return cut > 0 ? p.slice(0, cut) : undefined;
}
