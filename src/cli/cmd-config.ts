// apply, delete, get: the admin API's resource verbs.
import { parse as parseYamlText } from 'yaml';
import type { ChangeResult } from '../controller/index.js';
import { formatDiagnostic, type Diagnostic, type Kind } from '../model/index.js';
import type { AdminClient } from './client.js';
import { readInputFiles } from './files.js';
import { parseKind, qualifiedName } from './kinds.js';
import { waitForSync } from './wait.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

function printDiagnostics(io: Io, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.err(formatDiagnostic(d));
}

export async function applyCommand(
  client: AdminClient,
  io: Io,
  files: readonly string[],
  opts: { wait: boolean; timeoutMs: number; dryRun: boolean },
): Promise<number> {
  const inputs = await readInputFiles(files);
  const { body } = await client.post<ChangeResult>('/v1/apply', { files: inputs, dryRun: opts.dryRun });
  printDiagnostics(io, body.diagnostics);
  if (!body.ok) {
    const errors = body.diagnostics.filter((d) => d.level === 'error').length;
    io.err(
      `error: nothing applied (${errors} error${errors === 1 ? '' : 's'}); the mesh keeps its current configuration`,
    );
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
  target: { files: readonly string[]; kind?: string; name?: string; namespace: string },
  opts: { wait: boolean; timeoutMs: number },
): Promise<number> {
  const files = target.files.length > 0 ? await readInputFiles(target.files) : [];
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

interface StoredResource {
  kind: Kind;
  apiVersion: string;
  namespace: string;
  name: string;
  source: { file: string; line: number };
  text: string;
}

export async function getCommand(
  client: AdminClient,
  io: Io,
  kindArg: string,
  name: string | undefined,
  opts: { namespace: string; allNamespaces: boolean; output?: string },
): Promise<number> {
  const kind = kindArg.toLowerCase() === 'all' ? undefined : parseKind(kindArg);
  const params = new URLSearchParams();
  if (kind) params.set('kind', kind);
  if (!opts.allNamespaces) params.set('namespace', opts.namespace);
  if (name) params.set('name', name);
  const { body } = await client.get<{ resources: StoredResource[] }>(`/v1/resources?${params}`);
  const resources = body.resources;
  if (name && resources.length === 0) {
    io.err(`error: ${kind ?? 'resource'} "${name}" not found in namespace ${opts.namespace}`);
    return 1;
  }
  switch (opts.output) {
    case 'yaml':
      io.out(resources.map((r) => r.text.trimEnd()).join('\n---\n'));
      return 0;
    case 'json': {
      const items = resources.map((r) => parseYamlText(r.text) as unknown);
      io.out(
        JSON.stringify(name && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2),
      );
      return 0;
    }
    case undefined:
    case 'wide':
      break;
    default:
      throw new Error(`-o ${opts.output}: expected yaml or json`);
  }
  if (resources.length === 0) {
    io.err(opts.allNamespaces ? 'No resources found' : `No resources found in ${opts.namespace} namespace.`);
    return 0;
  }
  const rows = resources.map((r) => [
    r.namespace,
    kind ? r.name : qualifiedName(r.kind, r.name),
    `${r.source.file}:${r.source.line}`,
  ]);
  io.out(table([['NAMESPACE', 'NAME', 'SOURCE'], ...rows]));
  return 0;
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join(''))
    .join('\n');
}
