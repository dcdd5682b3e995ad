// Keeps the one-way flow checkable: each folder of src/ may import only the folders listed for it.
// ingest -> validation -> snapshot -> translation -> proxy-config -> distribution -> data plane; cli and runtime on top.
import fs from 'node:fs';
import path from 'node:path';

const allowed = {
  model: [],
  'proxy-config': [],
  // The access-log formats, a leaf: the proxies write them, the controller checks them before it sends them.
  observability: [],
  // Certificates and keys: a leaf that imports nothing of ours.
  pki: [],
  validation: ['model'],
  ingest: ['model', 'validation'],
  snapshot: ['model', 'proxy-config', 'observability'],
  translation: ['model', 'snapshot', 'proxy-config', 'observability'],
  distribution: ['proxy-config'],
  dataplane: ['proxy-config', 'observability'],
  controller: ['model', 'ingest', 'validation', 'snapshot', 'translation', 'proxy-config', 'distribution', 'pki'],
  runtime: ['model', 'controller', 'dataplane', 'distribution', 'proxy-config', 'snapshot', 'pki'],
  cli: [
    'model',
    'ingest',
    'validation',
    'snapshot',
    'translation',
    'controller',
    'runtime',
    'dataplane',
    'proxy-config',
    'distribution',
    'pki',
  ],
};

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', 'src');
const problems = [];
function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p);
    else if (entry.name.endsWith('.ts')) check(p);
  }
}
function check(file) {
  const from = path.relative(root, file).split(path.sep)[0];
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = path.relative(root, path.resolve(path.dirname(file), m[1])).split(path.sep)[0];
    if (target === from || target.startsWith('..')) continue;
    // Validation's tests feed real YAML through ingest; the module itself stays upstream of it.
    if (file.endsWith('.test.ts') && from === 'validation' && target === 'ingest') continue;
    // The data plane's tests make the certificates their TLS peers present.
    if ((file.endsWith('.test.ts') || file.includes(`${path.sep}testing${path.sep}`)) && target === 'pki') continue;
    // Translation's tests route through the data plane's own compiled config: one implementation of proxy behaviour.
    if (file.endsWith('.test.ts') && from === 'translation' && target === 'dataplane') continue;
    if (!(allowed[from] ?? []).includes(target))
      problems.push(`${path.relative(root, file)} imports ${m[1]} (${from} -> ${target} is against the flow)`);
  }
}
walk(root);
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`imports follow the one-way flow (${Object.keys(allowed).length} folders checked)`);
