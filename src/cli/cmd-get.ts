// `tollgate get`: the resources in force, as kubectl prints them (see get-columns.ts for the columns).
import { parse as parseYamlText, parseDocument, stringify as toYaml } from 'yaml';
import type { ProxyStatus } from '../controller/index.js';
import { KINDS, type Kind } from '../model/index.js';
import type { AdminClient } from './client.js';
import { getPodsCommand, POD_KIND_NAMES } from './cmd-get-pods.js';
import { COLUMNS, type ColumnContext, type Row } from './get-columns.js';
import { table, type Io } from './io.js';
import { parseKind, qualifiedName } from './kinds.js';

/** A resource as GET /v1/resources returns it. */
interface StoredResource {
  readonly kind: Kind;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly source: { readonly file: string; readonly line: number };
  readonly created?: string;
  readonly text: string;
}

export type GetOutput = 'yaml' | 'json' | 'wide' | 'name';

export async function getCommand(
  client: AdminClient,
  io: Io,
  kindArg: string,
  name: string | undefined,
  opts: { namespace: string; allNamespaces: boolean; output: GetOutput | undefined },
): Promise<number> {
  if (POD_KIND_NAMES.has(kindArg.toLowerCase())) return getPodsCommand(client, io, name, opts);
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
  if (resources.length === 0 && opts.output !== 'json' && opts.output !== 'yaml') {
    io.err(opts.allNamespaces ? 'No resources found' : `No resources found in ${opts.namespace} namespace.`);
    return 0;
  }
  switch (opts.output) {
    case 'yaml':
    case 'json':
      io.out(render(resources, opts.output, name !== undefined && resources.length === 1));
      return 0;
    case 'name':
      for (const r of resources) io.out(qualifiedName(r.kind, r.name));
      return 0;
    case undefined:
    case 'wide': {
      const needsProxies = resources.some((r) => r.kind === 'Deployment');
      const proxies = needsProxies ? (await client.get<{ proxies: ProxyStatus[] }>('/v1/status')).body.proxies : [];
      const ctx: ColumnContext = { now: new Date(), proxies };
      const sections = KINDS.map((k) => resources.filter((r) => r.kind === k)).filter((rs) => rs.length > 0);
      io.out(
        sections
          .map((rs) => printTable(rs.map(toRow), ctx, { ...opts, wide: opts.output === 'wide', qualified: !kind }))
          .join('\n\n'),
      );
      return 0;
    }
  }
}

function toRow(r: StoredResource): Row {
  const parsed: unknown = parseYamlText(r.text);
  const object = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  return { kind: r.kind, namespace: r.namespace, name: r.name, source: r.source, created: r.created, object };
}

/** One kind's table: [NAMESPACE] NAME, the kind's columns, AGE (and the wide ones). */
function printTable(
  rows: readonly Row[],
  ctx: ColumnContext,
  opts: { allNamespaces: boolean; wide: boolean; qualified: boolean },
): string {
  const columns = COLUMNS[rows[0]!.kind].filter((c) => opts.wide || !c.wide);
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'NAME', ...columns.map((c) => c.header)];
  const body = rows.map((r) => [
    ...(opts.allNamespaces ? [r.namespace] : []),
    opts.qualified ? qualifiedName(r.kind, r.name) : r.name,
    ...columns.map((c) => c.value(r, ctx)),
  ]);
  return table([header, ...body]);
}

/**
 * The objects as the API server would return them: metadata.namespace always set (users often leave it out) and
 * metadata.creationTimestamp from the first time the controller saw the resource. One named object prints alone
 * (with its comments kept, in YAML); anything else prints as a List.
 */
function render(resources: readonly StoredResource[], format: 'yaml' | 'json', single: boolean): string {
  const docs = resources.map((r) => {
    const doc = parseDocument(r.text);
    if (!doc.hasIn(['metadata', 'namespace'])) doc.setIn(['metadata', 'namespace'], r.namespace);
    if (r.created !== undefined && !doc.hasIn(['metadata', 'creationTimestamp']))
      doc.setIn(['metadata', 'creationTimestamp'], r.created);
    return doc;
  });
  if (single) return format === 'yaml' ? docs[0]!.toString().trimEnd() : JSON.stringify(docs[0]!.toJS(), null, 2);
  const list = { apiVersion: 'v1', kind: 'List', items: docs.map((d) => d.toJS() as unknown) };
  return format === 'yaml' ? toYaml(list).trimEnd() : JSON.stringify(list, null, 2);
}
