// `tollgate validate -f FILE...`: offline checks, the same ones `apply` runs, with no controller.
import { parseYaml } from '../ingest/index.js';
import { formatDiagnostic, hasErrors } from '../model/index.js';
import { analyze, buildSnapshot } from '../snapshot/index.js';
import type { Io } from './cmd-config.js';
import { readInputFiles } from './files.js';

export async function validateCommand(io: Io, files: readonly string[], output?: string): Promise<number> {
  const inputs = await readInputFiles(files);
  const parsed = inputs.map((f) => parseYaml(f.content, f.name));
  const resources = parsed.flatMap((p) => p.resources);
  const snapshot = buildSnapshot({ version: 'validate', resources, instances: [] });
  const diagnostics = [...parsed.flatMap((p) => p.diagnostics), ...analyze(snapshot)];
  if (output === 'json') io.out(JSON.stringify({ diagnostics }, null, 2));
  else {
    for (const d of diagnostics) io.out(formatDiagnostic(d));
    const errors = diagnostics.filter((d) => d.level === 'error').length;
    io.out(`${resources.length} resources in ${inputs.length} files: ${errors} errors, ${diagnostics.length - errors} warnings`);
  }
  return hasErrors(diagnostics) ? 1 : 0;
}
