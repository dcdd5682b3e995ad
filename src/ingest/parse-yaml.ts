import { type Alias, isMap, isScalar, isSeq, type LineCounter, type YAMLError, type YAMLMap } from 'yaml';
import type { AnyResource, Diagnostic, Kind, ObjectMeta } from '../model/index.js';
import { DEFAULT_NAMESPACE, KINDS } from '../model/index.js';
import { makeDiagnostic } from '../validation/codes.js';
import { validateResource } from '../validation/index.js';
import { DecodeContext, type ResourceRef } from './decode-context.js';
import { readYaml, type YamlProblem, type YamlRead } from './read-yaml.js';
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

function scalarField(node: unknown, key: string, ctx: DecodeContext): { value: unknown; node: unknown } {
  if (!isMap(node)) return { value: undefined, node: undefined };
  const v = ctx.resolve(node.get(key, true));
  return { value: isScalar(v) ? v.value : undefined, node: v };
}

/** Syntax errors reported per file; past this many, one line says how many more there are. */
const MAX_SYNTAX_ERRORS = 20;

function syntaxDiagnostic(
  file: string,
  lineCounter: LineCounter,
  e: YAMLError,
  level: 'error' | 'warning',
): Diagnostic {
  const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
  const offset = e.pos[0];
  return makeDiagnostic('YamlSyntaxError', {
    message: `YAML ${level === 'error' ? 'syntax error' : 'warning'}: ${message}`,
    ...(offset >= 0 ? { position: { file, ...lineCounter.linePos(offset) } } : {}),
    hint: 'fix the YAML at this line; the other documents in the file are still read',
    level,
  });
}

function problemDiagnostic(file: string, lineCounter: LineCounter, p: YamlProblem): Diagnostic {
  return makeDiagnostic(p.kind === 'limit' ? 'YamlLimitExceeded' : 'YamlSyntaxError', {
    message: p.kind === 'limit' ? `YAML over tollgate's limits: ${p.message}` : `YAML syntax error: ${p.message}`,
    position: { file, ...lineCounter.linePos(p.offset) },
    hint: p.hint,
  });
}

/**
 * Reads a multi-document YAML file into normalized, validated resources. Never throws: every problem becomes a
 * diagnostic, and an error blocks only the resource it belongs to. Work is bounded by YAML_LIMITS whatever the text.
 */
export function parseYaml(text: string, file: string): IngestResult {
  const resources: AnyResource[] = [];
  const diagnostics: Diagnostic[] = [];
  let read: YamlRead;
  try {
    read = readYaml(text);
  } catch (err) {
    diagnostics.push(internalError(file, err));
    return { resources, diagnostics };
  }
  const { lineCounter } = read;
  const syntax: Diagnostic[] = read.errors.map((e) => syntaxDiagnostic(file, lineCounter, e, 'error'));
  for (const p of read.problems) diagnostics.push(problemDiagnostic(file, lineCounter, p));

  let empty = read.problems.length === 0 && read.errors.length === 0;
  for (const { doc, aliases } of read.documents) {
    for (const w of doc.warnings) syntax.push(syntaxDiagnostic(file, lineCounter, w, 'warning'));
    if (doc.errors.length > 0) {
      empty = false;
      for (const e of doc.errors) syntax.push(syntaxDiagnostic(file, lineCounter, e, 'error'));
      continue;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) continue;
    empty = false;
    try {
      readObject(root, { file, text, lineCounter, aliases }, resources, diagnostics, '');
    } catch (err) {
      // Decoding is total by design; a throw is a bug. The document is refused rather than the file or the process.
      diagnostics.push(internalError(file, err, lineCounter.linePos(doc.range[0])));
    }
  }
  const listed = syntax.slice(0, MAX_SYNTAX_ERRORS);
  if (syntax.length > MAX_SYNTAX_ERRORS) {
    listed.push(
      makeDiagnostic('YamlSyntaxError', {
        message: `${syntax.length - MAX_SYNTAX_ERRORS} more YAML problems in this file are not listed`,
        position: syntax[MAX_SYNTAX_ERRORS]!.position ?? { file, line: 1, col: 1 },
        level: syntax.slice(MAX_SYNTAX_ERRORS).some((d) => d.level === 'error') ? 'error' : 'warning',
      }),
    );
  }
  diagnostics.unshift(...listed);
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

function internalError(file: string, err: unknown, at = { line: 1, col: 1 }): Diagnostic {
  return makeDiagnostic('IngestInternalError', {
    message: `tollgate could not read this document (${err instanceof Error ? err.message : String(err)}); it is refused`,
    position: { file, ...at },
    hint: 'this is a bug in tollgate: please report it with the document',
  });
}

interface Input {
  readonly file: string;
  readonly text: string;
  readonly lineCounter: LineCounter;
  readonly aliases: ReadonlyMap<Alias, unknown>;
}

function readObject(
  node: unknown,
  input: Input,
  resources: AnyResource[],
  diagnostics: Diagnostic[],
  where: string,
): void {
  const { file, text, lineCounter, aliases } = input;
  const probe = new DecodeContext(file, lineCounter, aliases);
  if (!isMap(node)) {
    probe.report('InvalidType', node, where, 'expected a Kubernetes object (a map with apiVersion and kind)');
    diagnostics.push(...probe.diagnostics);
    return;
  }
  const kindField = scalarField(node, 'kind', probe);
  const apiField = scalarField(node, 'apiVersion', probe);
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
    const items = probe.resolve(node.get('items', true));
    if (isSeq(items)) {
      items.items.forEach((item, i) => readObject(probe.resolve(item), input, resources, diagnostics, `items[${i}]`));
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
  const metadata = probe.resolve(node.get('metadata', true));
  const nameNode = scalarField(metadata, 'name', probe).node;
  const nsNode = scalarField(metadata, 'namespace', probe).node;
  const name = isScalar(nameNode) && typeof nameNode.value === 'string' ? nameNode.value : '';
  const namespace =
    isScalar(nsNode) && typeof nsNode.value === 'string' && nsNode.value !== '' ? nsNode.value : DEFAULT_NAMESPACE;
  const ref: ResourceRef = { kind, namespace, name };
  const scoped = name ? new DecodeContext(file, lineCounter, aliases, ref) : probe;

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

  const ctx = new DecodeContext(file, lineCounter, aliases, ref);
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
