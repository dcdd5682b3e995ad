// What was in force keeps being in force across a restart, whatever state the config directory is in at start.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Controller } from './controller.js';
import { lastGoodPath } from './last-good.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

const IOP = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
`;

const SE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web}
spec:
  hosts: [web.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
`;

function dirWith(files: Record<string, string>): string {
  const dir = tempDir('lastgood');
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

async function started(dir: string): Promise<Controller> {
  const c = new Controller(dir);
  await c.start();
  return c;
}

/** Runs the controller once (so that it records what is in force), breaks the directory, and starts it again. */
async function restartAfter(files: Record<string, string>, breakIt: (dir: string) => void): Promise<Controller> {
  const dir = dirWith(files);
  const first = await started(dir);
  assert.equal(first.configState().state, 'current');
  first.stop();
  breakIt(dir);
  return started(dir);
}

const policy = (c: Controller): string => c.snapshot.mesh.outboundTrafficPolicy;
const codes = (c: Controller): string[] => c.diagnostics().map((d) => d.code);

describe('last good configuration across restarts', () => {
  it('an IstioOperator cut short where it still parses (meshConfig: null) keeps REGISTRY_ONLY', async () => {
    for (const cut of ['spec:\n  meshConfig:\n', 'spec:\n  meshConfig:\n    outboundTrafficPolicy:\n      mo', '']) {
      const c = await restartAfter({ 'iop.yaml': IOP }, (dir) =>
        fs.writeFileSync(path.join(dir, 'iop.yaml'), IOP.slice(0, IOP.indexOf('spec:')) + cut),
      );
      try {
        assert.equal(policy(c), 'REGISTRY_ONLY', JSON.stringify(cut));
        assert.equal(c.configState().state, 'last-good');
        assert.ok(codes(c).includes('TG0306'), codes(c).join());
      } finally {
        c.stop();
      }
    }
  });

  it('a file that no longer parses, cannot be decoded, or holds an invalid version of a resource', async () => {
    const breaks: Record<string, (dir: string) => void> = {
      syntax: (dir) => fs.writeFileSync(path.join(dir, 'iop.yaml'), `${IOP}  bad: [\n`),
      'not UTF-8': (dir) => fs.writeFileSync(path.join(dir, 'iop.yaml'), Buffer.from([0xff, 0xfe, 0x00, 0x41])),
      invalid: (dir) => fs.writeFileSync(path.join(dir, 'iop.yaml'), IOP.replace('REGISTRY_ONLY', 'REGISTRY_0NLY')),
      'bad apiVersion': (dir) => fs.writeFileSync(path.join(dir, 'iop.yaml'), IOP.replace('v1alpha1', 'v9')),
    };
    for (const [what, breakIt] of Object.entries(breaks)) {
      const c = await restartAfter({ 'iop.yaml': IOP, 'se.yaml': SE }, breakIt);
      try {
        assert.equal(policy(c), 'REGISTRY_ONLY', what);
        assert.equal(c.resources().length, 2, what);
        assert.equal(c.configState().state, 'last-good', what);
        assert.ok(
          c.diagnostics().some((d) => d.level === 'error'),
          what,
        );
      } finally {
        c.stop();
      }
    }
  });

  it('a real edit is taken: a document removed where it ended, a file deleted', async () => {
    const both = `${SE}---\n${IOP}`;
    const edited = await restartAfter({ 'all.yaml': both }, (dir) => fs.writeFileSync(path.join(dir, 'all.yaml'), SE));
    try {
      assert.equal(policy(edited), 'ALLOW_ANY');
      assert.equal(edited.configState().state, 'current');
    } finally {
      edited.stop();
    }
    const deleted = await restartAfter({ 'iop.yaml': IOP }, (dir) => fs.rmSync(path.join(dir, 'iop.yaml')));
    try {
      assert.equal(policy(deleted), 'ALLOW_ANY');
    } finally {
      deleted.stop();
    }
  });

  it("an apply that drops a file's last lines is an edit, not a torn write: it is in force, now and after a restart", async () => {
    const exported = `${SE}  exportTo: ["*"]\n`;
    const dir = dirWith({ 'se.yaml': exported });
    let c = await started(dir);
    try {
      const applied = await c.apply([{ name: 'apply.yaml', content: SE }]);
      assert.equal(applied.ok, true, JSON.stringify(applied.diagnostics));
      // The controller wrote the resource back where it was, and the file is now a prefix of what it was.
      assert.equal(fs.readFileSync(path.join(dir, 'se.yaml'), 'utf8'), SE);
      assert.deepEqual(c.snapshot.byKind.ServiceEntry[0]?.spec.exportTo, []);
      assert.equal(c.configState().state, 'current');
      assert.deepEqual(codes(c), []);
      c.stop();
      c = await started(dir);
      assert.deepEqual(c.snapshot.byKind.ServiceEntry[0]?.spec.exportTo, []);
      assert.equal(c.configState().state, 'current');
      // The same cut made by hand is still taken for a torn write (the last good version stays).
      fs.writeFileSync(path.join(dir, 'se.yaml'), exported);
      await c.reload();
      fs.writeFileSync(path.join(dir, 'se.yaml'), SE);
      await c.reload();
      assert.deepEqual(c.snapshot.byKind.ServiceEntry[0]?.spec.exportTo, ['*']);
      assert.ok(codes(c).includes('TG0306'), codes(c).join());
    } finally {
      c.stop();
    }
  });

  it('no last good record and errors at start: nothing is served until the directory reads cleanly', async () => {
    const dir = dirWith({ 'iop.yaml': `${IOP}  bad: [\n`, 'se.yaml': SE });
    const c = await started(dir);
    try {
      assert.equal(c.configState().state, 'withheld');
      assert.ok(codes(c).includes('TG0304'));
      assert.ok(!fs.existsSync(lastGoodPath(dir)), 'a partial view is not recorded as good');
      const refused = await c.apply([{ name: 'x.yaml', content: SE.replace('web', 'other') }]);
      assert.equal(refused.ok, false);
      assert.ok(refused.diagnostics.some((d) => d.code === 'TG0304'));

      fs.writeFileSync(path.join(dir, 'iop.yaml'), IOP);
      await c.reload();
      assert.equal(c.configState().state, 'current');
      assert.equal(policy(c), 'REGISTRY_ONLY');
      assert.ok(fs.existsSync(lastGoodPath(dir)));
    } finally {
      c.stop();
    }
  });

  it('a damaged record is no record: a clean directory is served, a broken one withheld', async () => {
    const c = await restartAfter({ 'iop.yaml': IOP }, (dir) => {
      fs.writeFileSync(lastGoodPath(dir), '{"files": {"iop.yaml": ');
      fs.writeFileSync(path.join(dir, 'iop.yaml'), `${IOP}  bad: [\n`);
    });
    try {
      assert.equal(c.configState().state, 'withheld');
    } finally {
      c.stop();
    }
  });

  it('versions only grow across restarts', async () => {
    const dir = dirWith({ 'se.yaml': SE });
    const first = await started(dir);
    await first.apply([{ name: 'iop.yaml', content: IOP }]);
    const before = Number(first.snapshot.version);
    first.stop();
    const second = await started(dir);
    try {
      assert.ok(Number(second.snapshot.version) > before, `${second.snapshot.version} > ${before}`);
    } finally {
      second.stop();
    }
  });
});
