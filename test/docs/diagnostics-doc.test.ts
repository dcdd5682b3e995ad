import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { DOC_PATH, renderDiagnosticsDoc } from '../../scripts/diagnostics-doc.js';

test('docs/diagnostics.md lists exactly the codes the catalogs hold (npm run docs regenerates it)', () => {
  assert.equal(fs.readFileSync(DOC_PATH, 'utf8'), renderDiagnosticsDoc());
});

test('no code is used twice across the catalogs', () => {
  const codes = [...renderDiagnosticsDoc().matchAll(/^\| ((?:TG|IST)\d{4}) \|/gm)].map((m) => m[1]);
  assert.equal(new Set(codes).size, codes.length, codes.join(' '));
});
