// Parsing submitted files and analyzing them over a base configuration: what `apply`, `analyze -f` and the
// offline `validate` / `analyze --offline` share.
import fs from 'node:fs';
import { parseYaml } from '../ingest/index.js';
import { resourceKey, type AnyResource, type Diagnostic } from '../model/index.js';
import type { NodeIdentity } from '../proxy-config/types.js';
import { type AnalysisEnvironment, analyze, buildSnapshot, type Snapshot, type TlsSecret } from '../snapshot/index.js';

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

/**
 * Whether a certificate or key file can be read here. Proxies read such paths on their own host, relative to their
 * working directory; in local mode that is this process.
 */
function readableHere(path: string): boolean {
  try {
    fs.accessSync(path, fs.constants.R_OK);
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Analysis in the controller: the snapshot's secrets are the config directory's, files are this host's. */
const IN_CONTROLLER: AnalysisEnvironment = { secretsRead: true, fileReadable: readableHere };

/**
 * The files' own findings, then the analyzers over `base` with the files' resources merged over it. Without
 * `secrets` (files analyzed on their own: no config directory was read) credentialNames are not checked.
 */
export function analyzeFiles(
  files: readonly SubmittedFile[],
  base: readonly AnyResource[] = [],
  instances: readonly NodeIdentity[] = [],
  secrets?: ReadonlyMap<string, TlsSecret>,
): Diagnostic[] {
  const parsed = parseFiles(files);
  const snapshot = buildSnapshot({
    version: 'analyze',
    resources: mergeOver(base, parsed.resources),
    instances,
    ...(secrets ? { secrets } : {}),
  });
  return [
    ...parsed.diagnostics,
    ...analyze(snapshot, { secretsRead: secrets !== undefined, fileReadable: readableHere }),
  ];
}

const analyses = new WeakMap<Snapshot, readonly Diagnostic[]>();

/**
 * The analyzers' findings for a snapshot; snapshots are immutable, so each is analyzed once. Certificate files are
 * looked at then too, which is when proxies read them: each push of a new snapshot.
 */
export function analysisOf(snapshot: Snapshot): readonly Diagnostic[] {
  let found = analyses.get(snapshot);
  if (!found) analyses.set(snapshot, (found = analyze(snapshot, IN_CONTROLLER)));
  return found;
}
