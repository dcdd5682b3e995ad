// Parsing submitted files and analyzing them over a base configuration: what `apply`, `analyze -f` and the
// offline `validate` / `analyze --offline` share.
import { parseYaml } from '../ingest/index.js';
import { resourceKey, type AnyResource, type Diagnostic } from '../model/index.js';
import type { NodeIdentity } from '../proxy-config/types.js';
import { analyze, buildSnapshot, type Snapshot } from '../snapshot/index.js';

export interface SubmittedFile {
  readonly name: string;
  readonly content: string;
}

export interface ParsedFiles {
  readonly resources: AnyResource[];
  readonly diagnostics: Diagnostic[];
}

export function parseFiles(files: readonly SubmittedFile[]): ParsedFiles {
  const parsed = files.map((f) => parseYaml(f.content, f.name));
  return { resources: parsed.flatMap((p) => p.resources), diagnostics: parsed.flatMap((p) => p.diagnostics) };
}

/** `overlay` replaces the resources of `base` with the same kind/namespace/name, and adds the rest. */
export function mergeOver(base: readonly AnyResource[], overlay: readonly AnyResource[]): AnyResource[] {
  const merged = new Map(base.map((r) => [resourceKey(r), r] as const));
  for (const r of overlay) merged.set(resourceKey(r), r);
  return [...merged.values()];
}

/** The files' own findings, then the analyzers over `base` with the files' resources merged over it. */
export function analyzeFiles(
  files: readonly SubmittedFile[],
  base: readonly AnyResource[] = [],
  instances: readonly NodeIdentity[] = [],
): Diagnostic[] {
  const parsed = parseFiles(files);
  const snapshot = buildSnapshot({ version: 'analyze', resources: mergeOver(base, parsed.resources), instances });
  return [...parsed.diagnostics, ...analyze(snapshot)];
}

const analyses = new WeakMap<Snapshot, readonly Diagnostic[]>();

/** The analyzers' findings for a snapshot; snapshots are immutable, so each is analyzed once. */
export function analysisOf(snapshot: Snapshot): readonly Diagnostic[] {
  let found = analyses.get(snapshot);
  if (!found) analyses.set(snapshot, (found = analyze(snapshot)));
  return found;
}
