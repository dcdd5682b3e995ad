// Two `tollgate up` on one machine: the second must not start on the first one's pod addresses, where its proxies
// could not bind and `exec` would quietly reach the first mesh's sidecar.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BIN, run, startUp, tempDir, type UpProcess } from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const RANGE = `127.${octet()}.${octet()}.0/24`;

describe('two local meshes on one machine', () => {
  let first: UpProcess;

  before(async () => {
    first = await startUp(['--config-dir', tempDir('mesh1'), '--pod-cidr', RANGE]);
  });
  after(async () => {
    await first?.stop();
  });

  test('a second mesh asking for the same --pod-cidr is refused, naming the first and the way out', async () => {
    const r = await run(process.execPath, [
      BIN,
      'up',
      '--config-dir',
      tempDir('mesh2'),
      '--listen',
      '127.0.0.1:0',
      '--pod-cidr',
      RANGE,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: pod addresses ${RANGE.replace(/\./g, '\\.')} are in use by another tollgate mesh \\(controller ${first.url}, pid ${first.child.pid}\\); leave out --pod-cidr to take the first free range, or give this mesh its own, e.g. --pod-cidr `,
      ),
    );
    assert.doesNotMatch(r.stdout, /ready/);
  });

  test("a second mesh on the first one's --listen stops at once, leaving nothing running, and says how to fix it", async () => {
    const listen = new URL(first.url).host;
    const started = Date.now();
    // A stand-in too: its servers would keep a half-started process alive if nothing closed them.
    const r = await run(
      process.execPath,
      [BIN, 'up', '--config-dir', tempDir('mesh3'), '--listen', listen, '--stand-in', 'site.test'],
      {},
      15_000,
    );
    assert.equal(r.code, 1, `exited with ${r.code} after ${Date.now() - started} ms:\n${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: controller cannot listen on ${listen.replace(/\./g, '\\.')}: EADDRINUSE \\(.*pass --listen 127\\.0\\.0\\.1:PORT with another port\\)`,
        'm',
      ),
    );
    assert.doesNotMatch(r.stdout, /ready/);
  });

  test('up prints the range it holds', () => {
    assert.match(first.output(), new RegExp(`^tollgate \\| pod addresses ${RANGE.replace(/\./g, '\\.')}$`, 'm'));
  });
});
