// YAML that costs far more than its size to read is refused, with a diagnostic naming the file and line, before
// the cost is paid.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml } from './parse-yaml.js';
import { readYaml, YAML_LIMITS } from './read-yaml.js';

const HEAD = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: [a.example.com]
`;

/** A VirtualService whose http routes, matches and headers each repeat the one before `k` times through aliases. */
export function aliasBomb(k: number): string {
  const headers = Array.from({ length: k }, (_, i) => (i === 0 ? 'h0: &s {exact: x}' : `h${i}: *s`)).join(', ');
  return `${HEAD}  http:
  - &r
    match:
    - &m {uri: {prefix: /a}, headers: {${headers}}}
${Array(k - 1)
  .fill('    - *m')
  .join('\n')}
    route: [{destination: {host: a.example.com}}]
${Array(k - 1)
  .fill('  - *r')
  .join('\n')}
`;
}

function only(text: string) {
  const r = parseYaml(text, 'in.yaml');
  assert.equal(r.resources.length, 0, 'nothing is read');
  const errors = r.diagnostics.filter((d) => d.level === 'error');
  assert.equal(errors.length, 1, JSON.stringify(r.diagnostics));
  return errors[0]!;
}

describe('YAML limits', () => {
  it('aliases that repeat a match block K^3 times: refused at the alias that crosses the limit', () => {
    const text = aliasBomb(50);
    assert.ok(text.length < 1600, `a small file (${text.length} bytes)`);
    const d = only(text);
    assert.equal(d.code, 'TG0011');
    assert.match(d.message, /aliases expand this document by more than 10000 nodes/);
    assert.equal(d.position?.file, 'in.yaml');
    assert.ok((d.position?.line ?? 0) > 5, 'the line of an alias, not the document start');
  });

  it('aliases within the limit are followed, each to the anchor before it', () => {
    const r = parseYaml(aliasBomb(4), 'in.yaml');
    assert.deepEqual(r.diagnostics, []);
    const vs = r.resources[0]!;
    assert.ok(vs.kind === 'VirtualService');
    assert.equal(vs.spec.http.length, 4);
    assert.equal(vs.spec.http[3]!.match.length, 4);
  });

  it('a later anchor of the same name shadows the earlier one, as YAML says', () => {
    const r = parseYaml(
      `${HEAD}  http:
  - route: [{destination: {host: &h a.example.com}}]
  - route: [{destination: {host: &h b.example.com}}]
  - route: [{destination: {host: *h}}]
`,
      'in.yaml',
    );
    const vs = r.resources[0]!;
    assert.ok(vs.kind === 'VirtualService');
    assert.equal(vs.spec.http[2]!.route[0]!.destination.host, 'b.example.com');
  });

  it('an alias to an unknown anchor, or to its own parent: a syntax error, not a null or a loop', () => {
    assert.match(only(`${HEAD}  http: *nothing\n`).message, /alias \*nothing has no anchor/);
    const cycle = only(`${HEAD}  http: &r [{route: *r}]\n`);
    assert.equal(cycle.code, 'TG0001');
    assert.match(cycle.message, /refers to a node that contains it/);
  });

  it('too many aliases in one document', () => {
    const limits = { ...YAML_LIMITS, maxAliases: 3 };
    const read = readYaml('a: &a 1\nb: [*a, *a, *a, *a]\n', limits);
    assert.equal(read.documents.length, 0);
    assert.match(read.problems[0]!.message, /more than 3 aliases/);
  });

  it('nesting deeper than the limit, in flow, block and sequence-indicator form, and through aliases', () => {
    const depth = YAML_LIMITS.maxDepth + 10;
    const cases = {
      flow: `${'['.repeat(depth)}${']'.repeat(depth)}`,
      unterminated: '['.repeat(5_000),
      block: Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      dashes: `${'- '.repeat(depth)}a`,
      aliases: `a: &a ${'['.repeat(40)}${']'.repeat(40)}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n`,
    };
    for (const [name, text] of Object.entries(cases)) {
      const d = only(text);
      assert.equal(d.code, 'TG0011', name);
      assert.match(d.message, /deeper than 64 levels/, name);
    }
  });

  it('a huge unterminated flow collection does not reach the parser stack limits', () => {
    // The composer recurses per level; this input used to end the whole process from inside V8.
    for (let i = 0; i < 3; i++) assert.equal(only('['.repeat(200_000)).code, 'TG0011');
  });

  it('too many documents, or too many bytes: the file is refused unread', () => {
    const docs = readYaml('a: 1\n---\n'.repeat(6), { ...YAML_LIMITS, maxDocuments: 5 });
    assert.deepEqual(docs.documents, []);
    assert.match(docs.problems[0]!.message, /more than 5 documents/);
    const big = only(`# ${'x'.repeat(YAML_LIMITS.maxBytes)}\n`);
    assert.match(big.message, /over the limit of 8388608/);
  });

  it('duplicate keys are found in one pass, even among tens of thousands', () => {
    const keys = Array.from({ length: 30_000 }, (_, i) => `k${i}: v`);
    keys.push('k17: again');
    const d = only(
      `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  labels:\n    ${keys.join('\n    ')}\n`,
    );
    assert.equal(d.code, 'TG0001');
    assert.match(d.message, /map keys must be unique/);
    assert.equal(d.position?.line, 30_006);
  });

  it('syntax errors are listed up to a cap, then counted', () => {
    const r = parseYaml('a: b: c\n'.repeat(50), 'in.yaml');
    assert.ok(r.diagnostics.length <= 21, `${r.diagnostics.length} diagnostics`);
    assert.match(r.diagnostics.at(-1)!.message, /^30 more YAML problems in this file are not listed/);
  });

  it('"__proto__" is an ordinary key: a label, not a prototype', () => {
    const r = parseYaml(
      'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  labels: {__proto__: x, app: a}\n',
      'in.yaml',
    );
    const sa = r.resources[0]!;
    assert.deepEqual(Object.entries(sa.meta.labels), [
      ['__proto__', 'x'],
      ['app', 'a'],
    ]);
  });
});
