// What a newcomer types wrong, through the real CLI: directories without -R, no -f, empty files, several mistakes
// in one resource, an unreachable controller. Each answer says what to do, in the CLI's words, and changes nothing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, EXAMPLES, eventually, startUp, tempDir, tollgate, type UpProcess } from '../helpers/processes.js';

const ALL_EXAMPLES = path.dirname(EXAMPLES);
const NOWHERE = 'http://127.0.0.1:9';
const octet = (): number => 2 + Math.floor(Math.random() * 250);
// Wording from the admin API's wire format must never reach a user.
const INTERNAL = /\{files|\[\{name|needs -f FILE\.\.\./;

function write(name: string, content: string): string {
  const file = path.join(tempDir('input'), name);
  fs.writeFileSync(file, content);
  return file;
}

const TWO_MISTAKES = write(
  'se-two-mistakes.yaml',
  `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: two-mistakes}
spec:
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNSS
`,
);
const EMPTY = write('empty.yaml', '# nothing here yet\n');

describe('files: -f, -R and what no file means', () => {
  test('validate -f DIR reads its YAML files only, and says so when it holds none', async () => {
    const r = await tollgate(['validate', '-f', ALL_EXAMPLES], NOWHERE);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: ${ALL_EXAMPLES}: no YAML files (*.yaml, *.yml) in this directory; add -R to read its subdirectories (aliyun, aliyun-https, istio-egress-gateway, mistakes)\n`,
    );
    assert.doesNotMatch(r.stdout, /No validation issues/);
  });

  test('validate -R -f DIR reads every YAML file below it', async () => {
    const count = (dir: string): number =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .reduce((n, e) => n + (e.isDirectory() ? count(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? 1 : 0), 0);
    for (const flag of ['-R', '--recursive']) {
      const r = await tollgate(['validate', flag, '-f', ALL_EXAMPLES], NOWHERE);
      assert.match(r.stdout, new RegExp(`^${count(ALL_EXAMPLES)} files: \\d+ errors?, `, 'm'), r.stdout + r.stderr);
    }
  });

  test('analyze --offline without files, or with a directory of none, says what to give', async () => {
    const none = await tollgate(['analyze', '--offline'], NOWHERE);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'error: analyze --offline: give the files to analyze with -f FILE\n');
    const dir = await tollgate(['analyze', '--offline', '-f', ALL_EXAMPLES], NOWHERE);
    assert.equal(dir.code, 1);
    assert.match(dir.stderr, /^error: .*: no YAML files \(\*\.yaml, \*\.yml\) in this directory; add -R/);
    assert.doesNotMatch(none.stderr + dir.stderr, INTERNAL);
  });

  test('every mistake of a resource at once: a bad value does not hide a missing field', async () => {
    const r = await tollgate(['validate', '-f', TWO_MISTAKES], NOWHERE);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /:6:15: error TG0008 ServiceEntry default\/two-mistakes spec\.resolution: "DNSS"/);
    assert.match(r.stdout, /error TG0110 ServiceEntry default\/two-mistakes spec\.hosts: /);
    assert.match(r.stdout, /: 2 errors, 0 warnings, 0 infos$/m);
  });

  test('an empty file is a warning for validate', async () => {
    const r = await tollgate(['validate', '-f', EMPTY], NOWHERE);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /empty\.yaml:1:1: warning TG0015: no resources in this file/);
    assert.match(r.stdout, /: 0 errors, 1 warning, 0 infos$/m);
  });

  test('an admin API beyond loopback gets our own one-line warning, not a Node process warning', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'controller', '--config-dir', tempDir('exposed'), '--listen', '0.0.0.0:0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await eventually(() => (output.includes('controller | ready') ? true : undefined), 10_000, `ready: ${output}`);
    } finally {
      child.kill('SIGTERM');
    }
    assert.match(
      output,
      /^controller \| warning: the controller's API on 0\.0\.0\.0:\d+ is plain HTTP: its tokens cross the network in clear$/m,
    );
    assert.doesNotMatch(output, /\(node:\d+\)|--trace-warnings|TOLLGATE_ADMIN_EXPOSED/);
  });

  test('client errors start with "error:", as kubectl prints them', async () => {
    const r = await tollgate(['status'], NOWHERE);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: cannot reach the controller at http:\/\/127\.0\.0\.1:9 /);
    assert.doesNotMatch(r.stderr, /tollgate:/);
  });
});

describe('apply: input mistakes against a running mesh', () => {
  let up: UpProcess;
  const cli = (...args: string[]) => tollgate(args, up);

  before(async () => {
    up = await startUp(['--config-dir', tempDir('apply-input'), '--pod-cidr', `127.${octet()}.${octet()}.0/24`]);
  });
  after(async () => {
    await up?.stop();
  });

  test('apply without -f, or with a directory of no YAML, says what to give', async () => {
    const none = await cli('apply');
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'error: no files given: use -f FILE (a YAML file, a directory, or - for stdin)\n');
    const dir = await cli('apply', '--dry-run', '-f', ALL_EXAMPLES);
    assert.equal(dir.code, 1);
    assert.match(dir.stderr, /no YAML files .* add -R to read its subdirectories/);
    assert.doesNotMatch(none.stderr + dir.stderr, INTERNAL);
  });

  test('apply -R --dry-run reads the tree and reports what it would do', async () => {
    const r = await cli('apply', '--dry-run', '-R', '-f', EXAMPLES);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^deployment\.apps\/sleep created \(dry run\)$/m);
  });

  test('an empty file applies nothing, and says so with exit 1', async () => {
    const r = await cli('apply', '-f', EMPTY);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /warning TG0015/);
    assert.match(r.stderr, /^error: no resources to apply in .*empty\.yaml$/m);
  });

  test('apply reports every mistake of a resource, with a correct plural', async () => {
    const r = await cli('apply', '-f', TWO_MISTAKES);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TG0008/);
    assert.match(r.stderr, /TG0110/);
    assert.match(r.stderr, /^error: nothing applied \(2 errors\); the mesh keeps its current configuration$/m);
  });
});
