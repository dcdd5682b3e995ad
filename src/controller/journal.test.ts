import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseYaml } from '../ingest/index.js';
import { ConfigDirectory } from './config-dir.js';
import { commitEdits, recover } from './journal.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

const se = (name: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ${name}}\nspec:\n  hosts: [${name}.example.com]\n`;

function tmp(): string {
  return tempDir('journal');
}

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

test('a write that fails half-way rolls back the files already written; no temp file or journal stays', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'kept.yaml'), se('kept'));
  // The second resource's file name is taken by a directory: its rename fails after the first file is written.
  fs.mkdirSync(path.join(dir, 'serviceentry.default.b.yaml'));
  const store = new ConfigDirectory(dir, () => undefined);
  await store.load();
  const before = tree(dir);
  const resources = ['a', 'b'].map((n) => parseYaml(se(n), 'in.yaml').resources[0]!);
  await assert.rejects(store.persist(resources, []), /EISDIR|directory/);
  assert.deepEqual(tree(dir), before);
  assert.deepEqual(
    store.resources().map((r) => r.meta.name),
    ['kept'],
    'nothing of the batch is in force',
  );
});

test('recover finishes a journalled change a crash interrupted, and removes temp files', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'a.yaml'), 'old');
  await commitEdits(dir, [{ path: 'a.yaml', before: 'old', after: 'new' }]);
  assert.equal(fs.readFileSync(path.join(dir, 'a.yaml'), 'utf8'), 'new');
  assert.ok(!fs.existsSync(path.join(dir, '.tollgate', 'journal.json')), 'a finished change leaves no journal');

  // As a crash after the journal and the first file leaves it:
  fs.writeFileSync(
    path.join(dir, '.tollgate', 'journal.json'),
    JSON.stringify({
      edits: [
        { path: 'a.yaml', before: 'new', after: 'newer' },
        { path: 'b.yaml', before: null, after: 'b' },
        { path: 'c.yaml', before: 'c', after: null },
      ],
    }),
  );
  fs.writeFileSync(path.join(dir, 'c.yaml'), 'c');
  fs.writeFileSync(path.join(dir, '.z.yaml.tollgate-tmp'), 'z (half');
  const notes = await recover(dir);
  assert.equal(notes.length, 2, notes.join('\n'));
  assert.deepEqual(tree(dir), ['.tollgate', 'a.yaml', 'b.yaml']);
  assert.equal(fs.readFileSync(path.join(dir, 'a.yaml'), 'utf8'), 'newer');
  assert.equal(fs.readFileSync(path.join(dir, 'b.yaml'), 'utf8'), 'b');
});
