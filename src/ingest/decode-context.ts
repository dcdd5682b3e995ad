import { type Alias, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter } from 'yaml';
import type { Diagnostic, SourcePosition } from '../model/index.js';
import { makeDiagnostic, type CodeName } from '../validation/codes.js';

export interface ResourceRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** What decoding one resource accumulates: diagnostics and the position of every value it visited. */
export class DecodeContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly positions = new Map<string, SourcePosition>();
  /**
   * The path of an object decoded leniently: its optional fields that fail to decode are left out instead of
   * invalidating it, so the per-resource rules can still check the rest (see parse-yaml's second pass).
   */
  partialAt: string | undefined;

  constructor(
    readonly file: string,
    private readonly lineCounter: LineCounter,
    /** Each alias of the document mapped to its node (measured within the limits by readYaml). */
    private readonly aliases: ReadonlyMap<Alias, unknown>,
    readonly resource?: ResourceRef,
  ) {}

  /** Follows YAML aliases (`*anchor`) so schemas only ever see maps, sequences and scalars. */
  resolve(node: unknown): unknown {
    return isAlias(node) ? (this.aliases.get(node) ?? null) : node;
  }

  /** The node as plain data, aliases followed (for fields kept as they are written). */
  plain(node: unknown): unknown {
    const n = this.resolve(node);
    if (isScalar(n)) return n.value ?? null;
    if (isSeq(n)) return n.items.map((item) => this.plain(item));
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const pair of n.items) {
        if (!isPair(pair)) continue;
        const key = this.plain(pair.key);
        setOwn(out, typeof key === 'string' ? key : JSON.stringify(key), this.plain(pair.value));
      }
      return out;
    }
    return null;
  }

  positionOf(node: unknown): SourcePosition | undefined {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!range) return undefined;
    const { line, col } = this.lineCounter.linePos(range[0]);
    return { file: this.file, line, col };
  }

  record(path: string, node: unknown): void {
    const pos = this.positionOf(node);
    if (pos && path !== '') this.positions.set(path, pos);
  }

  report(name: CodeName, node: unknown, path: string, message: string, hint?: string): void {
    const position = this.positionOf(node) ?? this.positions.get(path);
    this.diagnostics.push(
      makeDiagnostic(name, {
        message,
        ...(position ? { position } : {}),
        ...(this.resource ? { resource: this.resource } : {}),
        ...(path ? { field: path } : {}),
        ...(hint ? { hint } : {}),
      }),
    );
  }

  /** A context that shares file and positions source but collects into fresh buffers (for trial decodes). */
  scratch(): DecodeContext {
    const scratch = new DecodeContext(this.file, this.lineCounter, this.aliases, this.resource);
    scratch.partialAt = this.partialAt;
    return scratch;
  }

  absorb(other: DecodeContext): void {
    this.diagnostics.push(...other.diagnostics);
    for (const [k, v] of other.positions) this.positions.set(k, v);
  }

  hasErrors(): boolean {
    return this.diagnostics.some((d) => d.level === 'error');
  }
}

export { childPath } from '../model/index.js';

/** Sets a key from user input as an own property: "__proto__" stays a key instead of replacing the prototype. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
