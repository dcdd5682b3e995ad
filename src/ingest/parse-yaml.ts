import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type YAMLError,
  type YAMLMap,
} from 'yaml';
import type { AnyResource, Diagnostic, Kind, ObjectMeta } from '../model/index.js';
import { DEFAULT_NAMESPACE, KINDS } from '../model/index.js';
import { makeDiagnostic } from '../validation/codes.js';
import { validateResource } from '../validation/index.js';
import { DecodeContext, type ResourceRef } from './decode-context.js';
import { CODECS, KNOWN_GROUPS, type KindCodec } from './kinds/index.js';
import { anything, decodeAt, INVALID, map, object, optional, string, type Schema } from './schema.js';
import { suggest } from './suggest.js';

export interface IngestResult {
  readonly resources: AnyResource[];
  readonly diagnostics: Diagnostic[];
}

// Kubernetes ObjectMeta fields; server-populated ones are accepted so that `kubectl get -o yaml` output reads.
const metadataSchema = object({
  name: string(),
  namespace: optional(string()),
  labels: optional(map(string())),
  annotations: optional(map(string())),
  generateName: optional(anything()),
  uid: optional(anything()),
  resourceVersion: optional(anything()),
  generation: optional(anything()),
  creationTimestamp: optional(anything()),
  deletionTimestamp: optional(anything()),
  deletionGracePeriodSeconds: optional(anything()),
  ownerReferences: optional(anything()),
  finalizers: optional(anything()),
  managedFields: optional(anything()),
  selfLink: optional(anything()),
});

const topSchemas = new Map<
  Kind,
  Schema<{
    metadata: {
      name: string;
      namespace?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
    spec?: unknown;
  }>
>();

function topSchema(codec: KindCodec<Kind, unknown>) {
  let s = topSchemas.get(codec.kind);
  if (!s) {
    const spec = codec.spec ? (codec.specRequired ? codec.spec : optional(codec.spec)) : optional(anything());
    s = object(
      { apiVersion: string(), kind: string(), metadata: metadataSchema, spec, status: optional(anything()) },
      { unknown: codec.strict ? 'warn' : 'ignore' },
    );
    topSchemas.set(codec.kind, s);
  }
  return s;
}

function scalarField(node: unknown, key: string): { value: unknown; node: unknown } {
  if (!isMap(node)) return { value: undefined, node: undefined };
  const v = node.get(key, true);
  return { value: isScalar(v) ? v.value : undefined, node: v };
}

function syntaxDiagnostic(file: string, e: YAMLError, level: 'error' | 'warning'): Diagnostic {
  const first = e.message.split('\n')[0] ?? e.message;
  const message = first.replace(/ at line \d+, column \d+:?$/, '');
  const lp = e.linePos?.[0];
  return makeDiagnostic('YamlSyntaxError', {
    message: `YAML ${level === 'error' ? 'syntax error' : 'warning'}: ${message}`,
    ...(lp ? { position: { file, line: lp.line, col: lp.col } } : {}),
    hint: 'fix the YAML at this line; the other documents in the file are still read',
    level,
  });
}

/**
 * Reads a multi-document YAML file into normalized, validated resources. Never throws: every problem becomes a
 * diagnostic, and an error blocks only the resource it belongs to.
 */
export function parseYaml(text: string, file: string): IngestResult {
  const resources: AnyResource[] = [];
  const diagnostics: Diagnostic[] = [];
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, { lineCounter });
    docs = Array.isArray(parsed) ? parsed : [];
  } catch (err) {
    diagnostics.push(
      makeDiagnostic('YamlSyntaxError', {
        message: `cannot parse ${file} as YAML: ${err instanceof Error ? err.message : String(err)}`,
        position: { file, line: 1, col: 1 },
      }),
    );
    return { resources, diagnostics };
  }

  let empty = true;
  for (const doc of docs) {
    for (const w of doc.warnings) diagnostics.push(syntaxDiagnostic(file, w, 'warning'));
    if (doc.errors.length > 0) {
      empty = false;
      for (const e of doc.errors) diagnostics.push(syntaxDiagnostic(file, e, 'error'));
      continue;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) continue;
    empty = false;
    readObject(root, doc, text, file, lineCounter, resources, diagnostics, '');
  }
  if (empty) {
    diagnostics.push(
      makeDiagnostic('EmptyFile', {
        message: 'no resources in this file (it is empty or holds only comments)',
        position: { file, line: 1, col: 1 },
        hint: 'check that this is the file you meant',
      }),
    );
  }
  return { resources, diagnostics };
}

function readObject(
  node: unknown,
  doc: Document.Parsed,
  text: string,
  file: string,
  lineCounter: LineCounter,
  resources: AnyResource[],
  diagnostics: Diagnostic[],
  where: string,
): void {
  const probe = new DecodeContext(file, lineCounter, doc);
  if (!isMap(node)) {
    probe.report('InvalidType', node, where, 'expected a Kubernetes object (a map with apiVersion and kind)');
    diagnostics.push(...probe.diagnostics);
    return;
  }
  const kindField = scalarField(node, 'kind');
  const apiField = scalarField(node, 'apiVersion');
  const kind = kindField.value;
  const apiVersion = apiField.value;
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    if (typeof kind !== 'string')
      probe.report(
        'MissingField',
        kindField.node ?? node,
        'kind',
        'missing `kind`',
        'every document needs apiVersion and kind',
      );
    if (typeof apiVersion !== 'string')
      probe.report(
        'MissingField',
        apiField.node ?? node,
        'apiVersion',
        'missing `apiVersion`',
        'every document needs apiVersion and kind',
      );
    diagnostics.push(...probe.diagnostics);
    return;
  }

  if (kind === 'List' || kind.endsWith('List')) {
    const items = node.get('items', true);
    if (isSeq(items)) {
      items.items.forEach((item, i) =>
        readObject(item, doc, text, file, lineCounter, resources, diagnostics, `items[${i}]`),
      );
      return;
    }
    if (kind === 'List') {
      probe.report('MissingField', node, 'items', 'a List needs `items`');
      diagnostics.push(...probe.diagnostics);
      return;
    }
  }

  // Findings about the kind and apiVersion name the resource when it has a name, so a bad apiVersion on a
  // resource in force keeps that resource's last good version (and says which one it is).
  const nameNode = node.getIn(['metadata', 'name'], true);
  const nsNode = node.getIn(['metadata', 'namespace'], true);
  const name = isScalar(nameNode) && typeof nameNode.value === 'string' ? nameNode.value : '';
  const namespace =
    isScalar(nsNode) && typeof nsNode.value === 'string' && nsNode.value !== '' ? nsNode.value : DEFAULT_NAMESPACE;
  const ref: ResourceRef = { kind, namespace, name };
  const scoped = name ? new DecodeContext(file, lineCounter, doc, ref) : probe;

  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const codec = (KINDS as readonly string[]).includes(kind)
    ? (CODECS[kind as Kind] as KindCodec<Kind, unknown>)
    : undefined;

  if (!codec || (codec.group !== group && !KNOWN_GROUPS.has(group))) {
    const close = codec ? undefined : suggest(kind, KINDS);
    scoped.report(
      'UnknownKind',
      kindField.node,
      'kind',
      `unknown kind ${apiVersion} ${kind}; the document is skipped`,
      close ? `did you mean \`${close}\`?` : `tollgate reads ${KINDS.join(', ')}`,
    );
    diagnostics.push(...scoped.diagnostics);
    return;
  }
  if (codec.group !== group || !codec.versions.includes(version)) {
    const expected = codec.versions.map((v) => (codec.group ? `${codec.group}/${v}` : v)).join(', ');
    scoped.report(
      'UnknownApiVersion',
      apiField.node,
      'apiVersion',
      `unknown apiVersion ${apiVersion} for kind ${kind}`,
      `use one of ${expected}`,
    );
    diagnostics.push(...scoped.diagnostics);
    return;
  }

  const ctx = new DecodeContext(file, lineCounter, doc, ref);
  ctx.record('apiVersion', apiField.node);
  const top = decodeAt(topSchema(codec), node, ctx, '');
  if (top === INVALID || ctx.hasErrors()) {
    diagnostics.push(...ctx.diagnostics, ...rulesDespiteErrors(codec, node, text, apiVersion, ctx));
    return;
  }
  const resource = buildResource(codec, top, node, text, apiVersion, ctx);
  const findings = validateResource(resource);
  diagnostics.push(...ctx.diagnostics, ...findings);
  if (!ctx.hasErrors() && !findings.some((d) => d.level === 'error')) resources.push(resource);
}

type TopLevel = Exclude<ReturnType<ReturnType<typeof topSchema>['decode']>, typeof INVALID>;

function buildResource(
  codec: KindCodec<Kind, unknown>,
  top: TopLevel,
  node: YAMLMap,
  text: string,
  apiVersion: string,
  ctx: DecodeContext,
): AnyResource {
  const meta: ObjectMeta = {
    name: top.metadata.name,
    namespace: top.metadata.namespace || DEFAULT_NAMESPACE,
    labels: top.metadata.labels ?? {},
    annotations: top.metadata.annotations ?? {},
  };
  const spec = codec.normalize(top.spec, meta, ctx);
  const range = node.range;
  const source = ctx.positionOf(node) ?? { file: ctx.file, line: 1, col: 1 };
  return {
    kind: codec.kind,
    apiVersion,
    meta,
    spec,
    source,
    text: range ? text.slice(range[0], range[2]) : '',
    positions: ctx.positions,
  } as AnyResource;
}

/**
 * A resource with schema errors is not used, but the per-resource rules still check the rest of it, so that every
 * problem shows at once (a missing host is reported together with a misspelt resolution, not after it is fixed).
 * The spec is decoded again leaving out its optional fields that failed; findings about a field that already has
 * an error (or about a field above or below it) are dropped, since they would only restate it.
 */
function rulesDespiteErrors(
  codec: KindCodec<Kind, unknown>,
  node: YAMLMap,
  text: string,
  apiVersion: string,
  failed: DecodeContext,
): Diagnostic[] {
  const lenient = failed.scratch();
  lenient.partialAt = 'spec';
  const top = decodeAt(topSchema(codec), node, lenient, '');
  if (top === INVALID) return [];
  const resource = buildResource(codec, top, node, text, apiVersion, lenient);
  const errorFields = failed.diagnostics.filter((d) => d.level === 'error').map((d) => d.field ?? '');
  const overlaps = (field: string, other: string): boolean =>
    field === other || isBelow(field, other) || isBelow(other, field);
  return validateResource(resource).filter((d) => !errorFields.some((f) => overlaps(d.field ?? '', f)));
}

/** "spec.hosts[0]" is below "spec.hosts"; "spec.hostsX" is not. */
function isBelow(path: string, parent: string): boolean {
  return parent === '' || (path.startsWith(parent) && (path[parent.length] === '.' || path[parent.length] === '['));
}
