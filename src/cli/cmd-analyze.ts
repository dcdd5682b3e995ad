// `tollgate validate` (files, offline) and `tollgate analyze` (the live configuration, files, or both merged):
// the same checks `apply` runs, printed as file:line:col, level, code, resource, field, message and a hint.
import { stringify as toYaml } from 'yaml';
import { formatDiagnostic, type Diagnostic, type DiagnosticLevel } from '../model/index.js';
import { analyzeFiles } from '../controller/analysis.js';
import type { AdminClient } from './client.js';
import { plural, type Io } from './io.js';
import { readInputFiles, type InputFile } from './files.js';

const RANK: Record<DiagnosticLevel, number> = { info: 0, warning: 1, error: 2 };

export interface ReportOptions {
  readonly output: 'text' | 'json' | 'yaml';
  /** Findings below this level are not shown. */
  readonly outputThreshold: DiagnosticLevel;
  /** Findings at or above this level make the exit code 1. */
  readonly failureThreshold: DiagnosticLevel;
  /** Directories given with -f are read with their subdirectories. */
  readonly recursive: boolean;
}

/** Offline: the files alone. */
export async function validateCommand(io: Io, files: readonly string[], opts: ReportOptions): Promise<number> {
  const inputs = await readInputFiles(files, opts);
  return report(io, analyzeFiles(inputs), describe(inputs), opts);
}

/**
 * Like istioctl analyze: the live configuration with the files merged over it; `--offline` (or no controller) takes
 * the files alone.
 */
export async function analyzeCommand(
  client: AdminClient,
  io: Io,
  files: readonly string[],
  opts: ReportOptions & { offline: boolean },
): Promise<number> {
  if (opts.offline && files.length === 0) throw new Error('analyze --offline: give the files to analyze with -f FILE');
  const inputs = files.length > 0 ? await readInputFiles(files, opts) : [];
  if (opts.offline) {
    return report(io, analyzeFiles(inputs), describe(inputs), opts);
  }
  let diagnostics: Diagnostic[];
  try {
    diagnostics = (await client.post<{ diagnostics: Diagnostic[] }>('/v1/analyze', { files: inputs })).body.diagnostics;
  } catch (err) {
    if (inputs.length === 0) throw err;
    io.err(`note: ${(err as Error).message.split(';')[0]}; analyzing the files alone`);
    return report(io, analyzeFiles(inputs), describe(inputs), opts);
  }
  const what = inputs.length > 0 ? `the live configuration with ${describe(inputs)}` : 'the live configuration';
  return report(io, diagnostics, what, opts);
}

function describe(inputs: readonly InputFile[]): string {
  return inputs.length === 1 ? inputs[0]!.name : `${inputs.length} files`;
}

function report(io: Io, all: readonly Diagnostic[], what: string, opts: ReportOptions): number {
  const unique = dedupe(all);
  const shown = unique.filter((d) => RANK[d.level] >= RANK[opts.outputThreshold]);
  const failing = unique.some((d) => RANK[d.level] >= RANK[opts.failureThreshold]);
  switch (opts.output) {
    case 'json':
      io.out(JSON.stringify(shown, null, 2));
      break;
    case 'yaml':
      io.out(toYaml(shown).trimEnd());
      break;
    case 'text': {
      if (shown.length === 0) {
        io.out(`No validation issues found when analyzing ${what}.`);
        break;
      }
      for (const d of shown) io.out(formatDiagnostic(d));
      const count = (level: DiagnosticLevel): number => shown.filter((d) => d.level === level).length;
      io.out(
        `\n${what}: ${plural(count('error'), 'error')}, ${plural(count('warning'), 'warning')}, ${plural(count('info'), 'info')}`,
      );
      break;
    }
  }
  return failing ? 1 : 0;
}

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.code}|${d.position?.file}|${d.position?.line}|${d.position?.col}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
