// apply and delete: the admin API's verbs that change resources.
import type { ChangeResult } from '../controller/index.js';
import { formatDiagnostic, type Diagnostic, type Kind } from '../model/index.js';
import type { AdminClient } from './client.js';
import { readInputFiles } from './files.js';
import { plural, type Io } from './io.js';
import { parseKind, qualifiedName } from './kinds.js';
import { waitForSync } from './wait.js';

function printDiagnostics(io: Io, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.err(formatDiagnostic(d));
}

export async function applyCommand(
  client: AdminClient,
  io: Io,
  files: readonly string[],
  opts: { recursive: boolean; wait: boolean; timeoutMs: number; dryRun: boolean },
): Promise<number> {
  const inputs = await readInputFiles(files, opts);
  const { body } = await client.post<ChangeResult>('/v1/apply', { files: inputs, dryRun: opts.dryRun });
  printDiagnostics(io, body.diagnostics);
  if (!body.ok) {
    const errors = body.diagnostics.filter((d) => d.level === 'error').length;
    io.err(`error: nothing applied (${plural(errors, 'error')}); the mesh keeps its current configuration`);
    return 1;
  }
  if (body.changes.length === 0) {
    io.err(`error: no resources to apply in ${inputs.map((f) => f.name).join(', ')}`);
    return 1;
  }
  const suffix = opts.dryRun ? ' (dry run)' : '';
  for (const c of body.changes) io.out(`${qualifiedName(c.kind, c.name)} ${c.action}${suffix}`);
  if (opts.wait && !opts.dryRun) return waitForSync(client, io, body.version, opts.timeoutMs);
  return 0;
}

export async function deleteCommand(
  client: AdminClient,
  io: Io,
  target: { files: readonly string[]; recursive: boolean; kind?: string; name?: string; namespace: string },
  opts: { wait: boolean; timeoutMs: number },
): Promise<number> {
  const files = target.files.length > 0 ? await readInputFiles(target.files, target) : [];
  const refs: { kind: Kind; namespace: string; name: string }[] = [];
  if (target.kind) {
    if (!target.name) throw new Error('delete KIND NAME: a name is needed');
    refs.push({ kind: parseKind(target.kind), namespace: target.namespace, name: target.name });
  }
  if (files.length === 0 && refs.length === 0) throw new Error('delete: give -f FILE... or KIND NAME');
  const { body } = await client.post<ChangeResult>('/v1/delete', { refs, files });
  printDiagnostics(io, body.diagnostics);
  for (const c of body.changes) io.out(`${qualifiedName(c.kind, c.name)} deleted`);
  for (const missing of body.notFound ?? []) io.err(`error: ${missing} not found`);
  if (!body.ok) return 1;
  if (opts.wait) return waitForSync(client, io, body.version, opts.timeoutMs);
  return 0;
}
