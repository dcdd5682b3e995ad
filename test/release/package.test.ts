// What users get: the published package holds the built program and no tests, and a CLI call loads only what its
// command needs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, run } from '../helpers/processes.js';

test('npm pack ships the built program, the examples and the docs, and no tests or test helpers', async () => {
  // --ignore-scripts: list what `files` selects from the dist/ this test run built (tests included), so the check
  // holds even when the clean build of prepack has not run.
  const r = await run(
    'npm',
    ['pack', '--dry-run', '--json', '--ignore-scripts'],
    { npm_config_loglevel: 'silent' },
    60_000,
  );
  assert.equal(r.code, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  const unwanted = files.filter((f) =>
    /\.test\.|\/testing\/|\/testdata\/|^test\/|^dist\/test\/|^dist\/scripts\//.test(f),
  );
  assert.deepEqual(unwanted, []);
  for (const needed of ['bin/tollgate.js', 'dist/src/cli/main.js', 'examples/aliyun/sleep.yaml', 'README.md'])
    assert.ok(files.includes(needed), `${needed} is in the package`);
});

/** The modules a file imports statically (`import ... from`, not `import()`), transitively, relative to ROOT. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    const rel = path.relative(ROOT, file);
    if (seen.has(rel)) return;
    seen.add(rel);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
      else seen.add(spec);
    }
  };
  visit(entry);
  return seen;
}

test('starting the CLI loads no command: the YAML parser, controller, data plane and analyzers load on use', () => {
  const graph = [...staticGraph(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))];
  assert.ok(graph.includes('commander'), 'the graph walk sees package imports');
  const heavy = graph.filter((m) =>
    /^yaml$|src\/(ingest|validation|snapshot|translation|controller|dataplane|runtime)\//.test(m),
  );
  assert.deepEqual(heavy, []);
});

test('a client command such as status loads neither the YAML parser nor the controller nor the data plane', () => {
  const graph = [...staticGraph(path.join(ROOT, 'dist', 'src', 'cli', 'cmd-status.js'))];
  const heavy = graph.filter((m) => /^yaml$|src\/(ingest|snapshot|translation|controller|dataplane|runtime)\//.test(m));
  assert.deepEqual(heavy, []);
});
