// Property test over the config pipeline: random and mutated YAML (from the corpus and the examples) goes through
// ingest, validation, snapshot, the analyzers and translation. Whatever the input: nothing throws, nothing hangs
// (the test's timeout), every non-empty input gets resources or diagnostics, and every diagnostic is from the
// catalog with a position that exists. The seed is fixed, so a failure reproduces; the budget is small so that it
// runs on every `npm test`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isScalar, stringify } from 'yaml';
import { parseYaml } from '../../src/ingest/index.js';
import { readYaml } from '../../src/ingest/read-yaml.js';
import { KINDS, resourceKey, type AnyResource, type Diagnostic } from '../../src/model/index.js';
import { nodeId, type NodeIdentity } from '../../src/proxy-config/types.js';
import { ANALYZER_CODES, analyze, buildSnapshot } from '../../src/snapshot/index.js';
import { API } from '../../src/snapshot/testing/fixtures.js';
import { translate } from '../../src/translation/index.js';
import { CODES } from '../../src/validation/codes.js';
import { seededRandom } from '../helpers/seeded-random.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SEED = 0x7011_6a7e;
const MUTATIONS = 600;
const GENERATED = 200;

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return e.name.endsWith('.yaml') && e.name !== 'expect.yaml' ? [p] : [];
  });
}

const SEEDS = [...yamlFiles(path.join(ROOT, 'test', 'corpus')), ...yamlFiles(path.join(ROOT, 'examples'))]
  .sort()
  .map((p) => fs.readFileSync(p, 'utf8'));

const TOKENS = [
  '[',
  ']',
  '{',
  '}',
  ': ',
  '- ',
  '---\n',
  '...\n',
  '&a ',
  '*a',
  '&b [',
  '*b',
  '<<: *a\n',
  '!!binary ',
  '!!str ',
  '%YAML 1.1\n',
  '? ',
  '|\n',
  '>-\n',
  '"',
  "'",
  '#',
  '\t',
  '\r\n',
  '\u0000',
  '\uFEFF',
  'é',
  '\u{1F600}',
  '~',
  'null',
  '-1',
  '1e400',
  '0x1F',
  '99999999999999999999',
  '.inf',
  'true',
  '"\\u0041"',
  '__proto__: {a: 1}\n',
  'constructor: x\n',
  '{a: [b, {c: *a}]}',
  '*',
  '&',
  '@',
  '`',
];
const KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'name',
  'namespace',
  'labels',
  'spec',
  'hosts',
  'ports',
  'number',
  'protocol',
  'resolution',
  'endpoints',
  'address',
  'http',
  'tls',
  'tcp',
  'match',
  'route',
  'destination',
  'host',
  'port',
  'subset',
  'subsets',
  'weight',
  'gateways',
  'selector',
  'servers',
  'uri',
  'prefix',
  'exact',
  'regex',
  'headers',
  'timeout',
  'retries',
  'attempts',
  'trafficPolicy',
  'connectionPool',
  'outlierDetection',
  'egress',
  'meshConfig',
  'outboundTrafficPolicy',
  'mode',
  'components',
  'egressGateways',
  'enabled',
  'k8s',
  'service',
  'targetPort',
  'template',
  'containers',
  'matchLabels',
  'exportTo',
  'sni',
  'redirect',
  'rewrite',
  'fault',
  'delay',
  'abort',
  'mirror',
  'delegate',
  'items',
  'workloadSelector',
  'outboundTrafficPolicy',
  'gatewayType',
  'gateway',
];

function mutate(next: () => number, text: string): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const at = (): number => Math.floor(next() * (text.length + 1));
  const lines = text.split('\n');
  const line = (): number => Math.floor(next() * lines.length);
  switch (Math.floor(next() * 9)) {
    case 0: {
      const from = at();
      return text.slice(0, from) + text.slice(from + Math.floor(next() * 40));
    }
    case 1: {
      const i = at();
      return text.slice(0, i) + pick(TOKENS) + text.slice(i);
    }
    case 2: {
      const i = line();
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 3: {
      const [i, j] = [line(), line()];
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 4:
      return text.slice(0, at());
    case 5: {
      const i = line();
      lines[i] = next() < 0.5 ? `${pick(['  ', '\t', ' '])}${lines[i]}` : lines[i]!.replace(/^ {1,2}/, '');
      return lines.join('\n');
    }
    case 6: {
      const i = at();
      return text.slice(0, i) + String.fromCharCode(Math.floor(next() * 0x3000)) + text.slice(i + 1);
    }
    case 7: {
      // Anchor a value and repeat it through aliases elsewhere.
      const i = line();
      lines[i] = lines[i]!.replace(/: (\S)/, ': &x $1');
      const j = line();
      lines[j] = lines[j]!.replace(/: \S.*$/, ': *x');
      return lines.join('\n');
    }
    default:
      return `${text}\n---\n${pick(SEEDS)}`;
  }
}

function generate(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 5 || r < 0.35)
      return pick<unknown>([
        'a.example.com',
        '*.example.com',
        '',
        'HTTP',
        'REGISTRY_ONLY',
        80,
        -1,
        0,
        65536,
        1.5,
        true,
        null,
        '3s',
        'x/y',
        'Mesh',
        '10.0.0.0/8',
      ]);
    if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    const out: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 5); i > 0; i--) out[pick(KEYS)] = value(depth + 1);
    return out;
  };
  const docs = Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
    const kind = pick(KINDS);
    const doc: Record<string, unknown> = {
      apiVersion: next() < 0.9 ? API[kind] : value(3),
      kind: next() < 0.95 ? kind : value(3),
      metadata:
        next() < 0.9 ? { name: pick(['a', 'b', 'x_y', 'a.b', 'A']), namespace: pick(['default', 'a']) } : value(2),
      spec: value(0),
    };
    return stringify(doc);
  });
  return docs.join('---\n');
}

const CATALOG = new Set<string>([...Object.values(CODES), ...Object.values(ANALYZER_CODES)].map((c) => c.code));

function hasContent(text: string): boolean {
  const read = readYaml(text);
  if (read.problems.length > 0 || read.errors.length > 0) return true;
  return read.documents.some(({ doc }) => {
    const root = doc.contents;
    return doc.errors.length > 0 || !(root === null || (isScalar(root) && (root.value === null || root.value === '')));
  });
}

function checkDiagnostics(input: string, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    assert.ok(CATALOG.has(d.code), `unknown code ${d.code} for input:\n${input}`);
    assert.notEqual(d.code, 'TG0014', `ingest failed inside: ${d.message}\ninput:\n${input}`);
    if (d.position) assert.ok(d.position.line >= 1 && d.position.col >= 1, `position ${JSON.stringify(d.position)}`);
  }
}

const base = SEEDS.flatMap((s) => parseYaml(s, 'base.yaml').resources);

function runPipeline(resources: readonly AnyResource[]): void {
  const merged = new Map(base.map((r) => [resourceKey(r), r] as const));
  for (const r of resources) merged.set(resourceKey(r), r);
  const declared = buildSnapshot({ version: '1', resources: [...merged.values()], instances: [] }).proxies;
  const instances: NodeIdentity[] = declared.map((p, i) => ({
    id: nodeId(p.type, `10.0.0.${i + 1}`, p.name, p.namespace),
    type: p.type,
    name: p.name,
    namespace: p.namespace,
    ip: `10.0.0.${i + 1}`,
    labels: p.labels,
    serviceAccount: p.serviceAccount,
  }));
  const snapshot = buildSnapshot({ version: '2', resources: [...merged.values()], instances });
  // Every certificate file is unreadable, so that the file checks run on whatever paths the input names.
  analyze(snapshot, { secretsRead: true, fileReadable: () => false });
  for (const node of instances) translate(node, snapshot);
}

describe('config pipeline, random and mutated input', { timeout: 120_000 }, () => {
  it(`${MUTATIONS} mutations of the corpus`, () => {
    const next = seededRandom(SEED);
    for (let i = 0; i < MUTATIONS; i++) {
      let text = SEEDS[Math.floor(next() * SEEDS.length)]!;
      for (let m = 1 + Math.floor(next() * 4); m > 0; m--) text = mutate(next, text);
      const r = parseYaml(text, 'fuzz.yaml');
      checkDiagnostics(text, r.diagnostics);
      assert.ok(r.resources.length + r.diagnostics.length > 0 || !hasContent(text), `silent on:\n${text}`);
      runPipeline(r.resources);
    }
  });

  it(`${GENERATED} generated documents`, () => {
    const next = seededRandom(SEED + 1);
    let accepted = 0;
    for (let i = 0; i < GENERATED; i++) {
      const text = generate(next);
      const r = parseYaml(text, 'fuzz.yaml');
      checkDiagnostics(text, r.diagnostics);
      assert.ok(r.resources.length + r.diagnostics.length > 0, `silent on:\n${text}`);
      accepted += r.resources.length;
      runPipeline(r.resources);
    }
    assert.ok(accepted > 0, 'some generated resources pass validation, so the later stages run too');
  });
});
