import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseYaml } from '../ingest/index.js';
import { resourceKey } from '../model/index.js';
import { ConfigDirectory, fileNameFor, isEffectivelyEmpty, removeDocument } from './config-dir.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

const se = (name: string, host: string): string =>
  `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: ${name}
spec:
  hosts: [${host}]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`;

function tmp(): string {
  return tempDir('dir');
}

/** A config directory holding `files` (name -> content), loaded; `file(name)` is a path in it. */
async function loadedStore(
  files: Readonly<Record<string, string>>,
): Promise<{ dir: string; store: ConfigDirectory; file: (name: string) => string }> {
  const dir = tmp();
  const file = (name: string): string => path.join(dir, name);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(file(name), content);
  const store = new ConfigDirectory(dir, () => undefined);
  await store.load();
  return { dir, store, file };
}

test('removeDocument takes one document and its separator out', () => {
  const a = se('a', 'a.example.com');
  const b = se('b', 'b.example.com');
  const content = `${a}---\n${b}`;
  const withoutA = removeDocument(content, a.trimEnd());
  assert.equal(withoutA.trim(), b.trim());
  const withoutB = removeDocument(content, b.trimEnd());
  assert.equal(withoutB.trim(), a.trim());
  assert.ok(isEffectivelyEmpty(removeDocument(withoutB, a.trimEnd())));
  assert.ok(isEffectivelyEmpty('# only a comment\n---\n'));
  assert.ok(!isEffectivelyEmpty('kind: X\n'));
});

test('loads every yaml file, reports duplicates, and keeps the first definition', async () => {
  const { store } = await loadedStore({
    'a.yaml': se('dup', 'first.example.com'),
    'b.yml': se('dup', 'second.example.com'),
    'notes.txt': 'not yaml',
  });
  const resources = store.resources();
  assert.equal(resources.length, 1);
  assert.equal(resources[0]!.kind === 'ServiceEntry' && resources[0]!.spec.hosts[0], 'first.example.com');
  assert.ok(store.diagnostics().some((d) => d.name === 'DuplicateResource' && d.position?.file.endsWith('b.yml')));
});

test('a file that stops parsing keeps its last good resources', async () => {
  const { store, file: at } = await loadedStore({ 'se.yaml': se('web', 'web.example.com') });
  const file = at('se.yaml');
  fs.writeFileSync(file, 'apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: web\n');
  assert.equal(await store.scan(), true);
  assert.equal(store.resources().length, 1, 'last good stays in force');
  const diags = store.diagnostics();
  assert.ok(
    diags.some((d) => d.level === 'error' && d.position?.file === file),
    JSON.stringify(diags),
  );
  assert.ok(diags.some((d) => d.name === 'LastGoodConfigInForce'));
});

test('a resource whose new version is invalid keeps its previous version; its valid neighbours update', async () => {
  const { store, file: at } = await loadedStore({
    'two.yaml': `${se('one', 'one.example.com')}---\n${se('two', 'two.example.com')}`,
  });
  const file = at('two.yaml');
  const broken = se('one', 'one.example.com').replace('  hosts: [one.example.com]\n', '');
  fs.writeFileSync(file, `${broken}---\n${se('two', 'two-v2.example.com')}`);
  await store.scan();
  const hosts = Object.fromEntries(
    store.resources().map((r) => [r.meta.name, r.kind === 'ServiceEntry' ? r.spec.hosts[0] : '']),
  );
  assert.deepEqual(hosts, { one: 'one.example.com', two: 'two-v2.example.com' });
});

test('persist writes new resources to their own file, replaces in place, deletes documents', async () => {
  const { dir, store, file } = await loadedStore({
    'shared.yaml': `# hand-written\n${se('a', 'a.example.com')}---\n${se('b', 'b.example.com')}`,
  });
  const shared = file('shared.yaml');

  const [c] = parseYaml(se('c', 'c.example.com'), 'input.yaml').resources;
  await store.persist([c!], []);
  assert.ok(fs.existsSync(path.join(dir, 'serviceentry.default.c.yaml')));

  const [a2] = parseYaml(se('a', 'a2.example.com'), 'input.yaml').resources;
  await store.persist([a2!], []);
  const text = fs.readFileSync(shared, 'utf8');
  assert.match(text, /a2\.example\.com/);
  assert.match(text, /# hand-written/);
  assert.match(text, /b\.example\.com/);

  await store.persist([], [resourceKey(a2!)]);
  assert.doesNotMatch(fs.readFileSync(shared, 'utf8'), /a2\.example\.com/);
  await store.persist([], ['ServiceEntry/default/b']);
  assert.ok(!fs.existsSync(shared), 'a file left with nothing but comments is removed');
  assert.deepEqual(
    store.resources().map((r) => r.meta.name),
    ['c'],
  );
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('tmp')),
    [],
    'no temporary files left',
  );
});

test('a resource whose apiVersion becomes unknown keeps its last good version', async () => {
  const { store, file: at } = await loadedStore({ 'se.yaml': se('web', 'web.example.com') });
  const file = at('se.yaml');
  fs.writeFileSync(file, se('web', 'web.example.com').replace('networking.istio.io/v1beta1', 'networking.istio.io/v9'));
  await store.scan();
  assert.deepEqual(
    store.resources().map((r) => r.meta.name),
    ['web'],
  );
  assert.ok(store.diagnostics().some((d) => d.code === 'TG0003' && d.resource?.name === 'web'));
});

test('file names differ for every kind/namespace/name, by construction', () => {
  const names = [
    ['default', 'x/y'],
    ['default', 'x_y'],
    ['a.b', 'c'],
    ['a', 'b.c'],
    ['b', 'c'],
    ['a', 'B'],
    ['a', '%42'],
    ['a', '\u{1F600}'],
    ['a', '\u001F600'],
  ].map(([namespace, name]) => fileNameFor({ kind: 'ServiceEntry', meta: { namespace: namespace!, name: name! } }));
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length, names.join(' '));
  assert.equal(names[3], 'serviceentry.a.b.c.yaml', 'valid names read as they are');
});

test('a new resource never overwrites a hand-written file that happens to have its file name', async () => {
  const { store } = await loadedStore({ 'serviceentry.default.c.yaml': se('other', 'other.example.com') });
  const [c] = parseYaml(se('c', 'c.example.com'), 'input.yaml').resources;
  await store.persist([c!], []);
  assert.deepEqual(
    store
      .resources()
      .map((r) => r.meta.name)
      .sort(),
    ['c', 'other'],
  );
});

test('the revision moves with what is in force, and only then', async () => {
  const { dir, store, file: at } = await loadedStore({ 'a.yaml': se('a', 'a.example.com') });
  const file = at('a.yaml');
  const loaded = store.revision;
  const hosts = (): string[] => store.resources().flatMap((r) => (r.kind === 'ServiceEntry' ? r.spec.hosts : []));

  assert.equal(await store.scan(), false);
  fs.writeFileSync(file, se('a', 'a.example.com'));
  assert.equal(await store.scan(), false, 'the same content written again');
  assert.equal(store.revision, loaded);

  fs.writeFileSync(path.join(dir, 'broken.yaml'), 'kind: ServiceEntry\nmetadata: {name: x\n');
  assert.equal(await store.scan(), true, 'a new file, with an error');
  assert.equal(store.revision, loaded, 'a file that adds nothing in force');
  assert.ok(store.diagnostics().some((d) => d.position?.file.endsWith('broken.yaml')));
  const line = store.resources()[0]!.source.line;
  const placed = store.placement;
  fs.writeFileSync(file, `\n\n${se('a', 'a.example.com')}`);
  assert.equal(await store.scan(), true);
  assert.equal(store.resources()[0]!.source.line, line + 2, 'positions are those of the file as it is now');
  assert.equal(store.revision, loaded, 'the same resources, moved');
  assert.ok(store.placement > placed, 'the move is told apart');

  fs.writeFileSync(file, se('a', 'b.example.com'));
  assert.equal(await store.scan(), true);
  assert.ok(store.revision > loaded);
  assert.deepEqual(hosts(), ['b.example.com'], 'what is in force is merged anew');

  const edited = store.revision;
  await store.persist(parseYaml(se('c', 'c.example.com'), 'c.yaml').resources, []);
  assert.ok(store.revision > edited, 'a persisted change moves it too');
  assert.deepEqual(hosts().sort(), ['b.example.com', 'c.example.com']);
});
