import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readYaml } from './read-yaml.js';
import { DecodeContext } from './decode-context.js';
import { parseDuration } from './duration.js';
import {
  array,
  decodeAt,
  enumOf,
  int,
  INVALID,
  map,
  object,
  oneOf,
  optional,
  string,
  union,
  type Infer,
} from './schema.js';
import { editDistance, suggest } from './suggest.js';

function decode<T>(schema: Parameters<typeof decodeAt<T>>[0], yaml: string) {
  const { lineCounter, documents } = readYaml(yaml);
  const { doc, aliases } = documents[0]!;
  const ctx = new DecodeContext('t.yaml', lineCounter, aliases);
  return { value: decodeAt(schema, doc.contents, ctx, ''), ctx };
}

describe('schema DSL', () => {
  const port = object({
    number: int(),
    name: optional(string()),
    protocol: optional(enumOf(['HTTP', 'TCP'], { caseInsensitive: true })),
  });
  const spec = object({
    ports: array(port),
    labels: optional(map(string())),
    match: optional(oneOf({ exact: string(), prefix: string() })),
  });

  it('infers the external type from the schema', () => {
    const v: Infer<typeof spec> = { ports: [{ number: 1 }], match: { exact: 'x' } };
    assert.equal(v.ports[0]?.number, 1);
  });

  it('decodes values and records positions of every node', () => {
    const { value, ctx } = decode(
      spec,
      'ports:\n- number: 80\n  protocol: http\nlabels: {app: a}\nmatch: {prefix: /}\n',
    );
    assert.deepEqual(value, {
      ports: [{ number: 80, protocol: 'HTTP' }],
      labels: { app: 'a' },
      match: { prefix: '/' },
    });
    assert.deepEqual(ctx.positions.get('ports[0].protocol'), { file: 't.yaml', line: 3, col: 13 });
    assert.deepEqual(ctx.positions.get('labels.app'), { file: 't.yaml', line: 4, col: 15 });
    assert.deepEqual(ctx.diagnostics, []);
  });

  it('reports missing required fields and wrong types with paths', () => {
    const { value, ctx } = decode(spec, 'ports:\n- name: http\n- number: "80"\n');
    assert.equal(value, INVALID);
    assert.deepEqual(
      ctx.diagnostics.map((d) => [d.code, d.field]),
      [
        ['TG0006', 'ports[0].number'],
        ['TG0005', 'ports[1].number'],
      ],
    );
  });

  it('enforces exactly one key of a oneOf', () => {
    const { ctx } = decode(spec, 'ports: []\nmatch: {exact: a, prefix: b}\n');
    assert.equal(ctx.diagnostics[0]?.code, 'TG0009');
  });

  it('picks the first union alternative that decodes', () => {
    const tp = union([int(), string()]);
    assert.equal(decode(tp, '8080').value, 8080);
    assert.equal(decode(tp, 'http').value, 'http');
    const bad = decode(tp, '[1]');
    assert.equal(bad.value, INVALID);
    assert.deepEqual(
      bad.ctx.diagnostics.map((d) => d.code),
      ['TG0005'],
    );
  });

  it('follows YAML aliases', () => {
    const { value } = decode(object({ a: map(string()), b: map(string()) }), 'a: &l {app: x}\nb: *l\n');
    assert.deepEqual(value, { a: { app: 'x' }, b: { app: 'x' } });
  });
});

describe('parseDuration', () => {
  for (const [text, ms] of [
    ['3s', 3000],
    ['100ms', 100],
    ['1m', 60000],
    ['1.5s', 1500],
    ['1h', 3600000],
    ['1h30m', 5400000],
    ['0', 0],
  ] as const) {
    it(`parses ${text}`, () => assert.deepEqual(parseDuration(text), { ms }));
  }
  for (const text of ['3', 's', '3 s', '1d', '-1s', '']) {
    it(`rejects ${JSON.stringify(text)}`, () => assert.ok('error' in parseDuration(text)));
  }
  it('rejects sub-millisecond precision', () =>
    assert.match((parseDuration('1500us') as { error: string }).error, /ms precision/));
});

describe('suggest', () => {
  it('finds close field names and ignores unrelated ones', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(suggest('hots', ['hosts', 'ports']), 'hosts');
    assert.equal(suggest('Hosts', ['hosts']), 'hosts');
    assert.equal(suggest('zzzzzz', ['hosts', 'ports']), undefined);
  });
});
