// Renders docs/diagnostics.md from the two code catalogs: `npm run docs` writes it, and a test checks that the
// committed page matches, so the list users read is the list the code uses.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANALYZER_CODES } from '../src/snapshot/index.js';
import { CODES } from '../src/validation/index.js';

export const DOC_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'diagnostics.md',
);

export function renderDiagnosticsDoc(): string {
  const rows = (catalog: Record<string, { code: string; level: string; summary: string }>): string[] =>
    Object.entries(catalog)
      .sort(([, a], [, b]) => (a.code < b.code ? -1 : 1))
      .map(([name, info]) => `| ${info.code} | ${name} | ${info.level} | ${info.summary.replace(/\|/g, '\\|')} |`);
  return [
    '# Diagnostics',
    '',
    'Every finding tollgate reports has a stable code, a level, the resource, the field and the file:line:col, and a',
    'hint at the fix. `tollgate validate`, `tollgate analyze`, `tollgate apply` and `tollgate up` (for the config',
    'directory) report the same findings. This page is generated from the catalogs in `src/validation/codes.ts` and',
    '`src/snapshot/analyze/codes.ts` (`npm run docs`).',
    '',
    '## Per resource (ingest and validation)',
    '',
    "Checked on each resource alone, mirroring Istio's `pkg/config/validation`. A resource with an error is not",
    'accepted: `apply` refuses it, and in the config directory its last good version stays in force.',
    '',
    '| code | name | level | what it means |',
    '|---|---|---|---|',
    ...rows(CODES),
    '',
    '## Across resources (analyzers)',
    '',
    "Checked on the whole configuration. IST codes are istioctl analyze's, with its code, name and level; TG1xxx are",
    "tollgate's own, for the egress pitfalls Istio users hit. `apply` refuses a change that introduces an error.",
    '',
    "Two look beyond the YAML. The credentialName checks (TG1014, TG1015) read the config directory's `secrets/`",
    'folder, so `validate` and `analyze --offline`, which have only the files, leave them out. The certificate file',
    'check (TG1016) looks at this host, where local-mode proxies read the files: a warning, as proxies run elsewhere',
    'may have them.',
    '',
    '| code | name | level | what it means |',
    '|---|---|---|---|',
    ...rows(ANALYZER_CODES),
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  fs.writeFileSync(DOC_PATH, renderDiagnosticsDoc());
  console.log(`wrote ${path.relative(process.cwd(), DOC_PATH)}`);
}
