// The control plane's guarantees with real processes: all-or-nothing applies under SIGKILL, the last good
// configuration (or none) after a restart on a damaged directory, the admin token found the way the README uses the
// CLI, and more Deployments than pod addresses.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REGISTRY_ONLY, SLEEP_DEPLOYMENT } from '../helpers/fixtures.js';
import { BIN, eventually, run, startController, startUp, tempDir, tollgate } from '../helpers/processes.js';
import { seededRandom } from '../helpers/seeded-random.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);

/** `tollgate controller` on `dir`, resolved once it is ready, with the admin token it made. */
async function controller(dir: string, listen?: string) {
  const c = await startController(dir, listen);
  const token = fs.readFileSync(path.join(dir, '.tollgate', 'admin-token'), 'utf8').trim();
  return { ...c, token };
}

function serviceEntries(batch: string, n: number): string {
  return Array.from(
    { length: n },
    (_, i) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${batch}-${i}}
spec:
  hosts: [${batch}-${i}.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
`,
  ).join('---\n');
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

/** curl through a sidecar: the status code, or 0 when nothing answers. */
async function curlVia(proxy: string, url: string): Promise<number> {
  const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', url], {
    http_proxy: proxy,
  });
  return Number(r.stdout);
}

describe('control plane, with real processes', () => {
  it('SIGKILL during apply, again and again: after each restart the batch is in force whole or not at all', async () => {
    const dir = tempDir('sigkill');
    const next = seededRandom(0x5eed);
    const BATCH = 60;
    const outcomes: string[] = [];
    let window = 0;
    let c = await controller(dir);
    const { url } = c;
    for (let round = 0; round < 6; round++) {
      const batch = `b${round}`;
      const started = Date.now();
      const apply = fetch(`${url}/v1/apply`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ files: [{ name: `${batch}.yaml`, content: serviceEntries(batch, BATCH) }] }),
      }).then(
        (r) => r.status,
        () => 'killed',
      );
      if (round === 0) {
        // The first round runs to the end: it measures how long an apply takes, the window the kills fall in.
        assert.equal(await apply, 200);
        window = Date.now() - started;
      } else {
        await new Promise((r) => setTimeout(r, next() * window));
      }
      c.child.kill('SIGKILL');
      await apply;
      await new Promise<void>((resolve) =>
        // Killed by a signal, a child has no exit code: its signal says it is gone.
        c.child.exitCode !== null || c.child.signalCode !== null ? resolve() : c.child.once('exit', () => resolve()),
      );

      // The restarted controller is checked, then takes the next round's apply.
      c = await controller(dir, new URL(url).host);
      const res = await fetch(`${url}/v1/resources?kind=ServiceEntry`, {
        headers: { authorization: `Bearer ${c.token}` },
      });
      const { resources } = (await res.json()) as { resources: { name: string }[] };
      const inForce = resources.filter((r) => r.name.startsWith(`${batch}-`)).length;
      assert.ok(inForce === 0 || inForce === BATCH, `round ${round}: ${inForce} of ${BATCH} in force`);
      assert.deepEqual(
        files(dir).filter((f) => f.includes('tmp') || f.endsWith('journal.json')),
        [],
        `round ${round}: no temp file or journal left`,
      );
      outcomes.push(inForce === 0 ? 'none' : 'all');
    }
    c.child.kill('SIGKILL');
    assert.equal(outcomes[0], 'all');
  });

  it('a damaged directory at restart: the last good config stays in force (502), and status and analyze say so', async () => {
    const dir = tempDir('lastgood');
    fs.writeFileSync(path.join(dir, 'sleep.yaml'), SLEEP_DEPLOYMENT);
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), REGISTRY_ONLY);
    const cidr = `127.${octet()}.${octet()}.0/24`;
    let up = await startUp(['--config-dir', dir, '--pod-cidr', cidr]);
    const sidecar = async (): Promise<string> => {
      const status = (await tollgate(['status'], up)).stdout;
      return `http://${/sleep\.default\s+sidecar\s+(\S+)/.exec(status)![1]}:15001`;
    };
    try {
      await eventually(async () => ((await tollgate(['status'], up)).code === 0 ? true : undefined), 10_000, 'sync');
      assert.equal(await curlVia(await sidecar(), 'http://unregistered.example/'), 502);
      await up.stop();
      // Cut short where it still parses: `meshConfig:` with nothing under it would mean ALLOW_ANY.
      fs.writeFileSync(path.join(dir, 'mesh.yaml'), REGISTRY_ONLY.slice(0, REGISTRY_ONLY.indexOf('    outbound')));
      up = await startUp(['--config-dir', dir, '--pod-cidr', cidr]);
      await eventually(
        async () =>
          /sleep\.default\s+sidecar\s+\S+\s+\d+\s+SYNCED/.test((await tollgate(['status'], up)).stdout)
            ? true
            : undefined,
        10_000,
        'sidecar synced',
      );
      assert.equal(await curlVia(await sidecar(), 'http://unregistered.example/'), 502, 'REGISTRY_ONLY still in force');
      const status = await tollgate(['status'], up);
      assert.equal(status.code, 1);
      assert.match(status.stderr, /last good configuration of these files stays in force/);
      assert.match(status.stderr, /TG0306/);
      const analyze = await tollgate(['analyze'], up);
      assert.equal(analyze.code, 1);
      assert.match(analyze.stdout, /mesh\.yaml.*error TG0306/);
    } finally {
      await up.stop();
    }
  });

  it('no last good record and a broken file: proxies get no config and serve nothing; status says so', async () => {
    const dir = tempDir('withheld');
    fs.writeFileSync(path.join(dir, 'sleep.yaml'), SLEEP_DEPLOYMENT);
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), `${REGISTRY_ONLY}  values: [\n`);
    const up = await startUp(['--config-dir', dir, '--pod-cidr', `127.${octet()}.${octet()}.0/24`]);
    try {
      const status = await eventually(
        async () => {
          const r = await tollgate(['status'], up);
          return /sleep\.default\s+sidecar\s+\S+\s+-\s+STALE/.test(r.stdout) ? r : undefined;
        },
        10_000,
        'the sidecar connected, with no config',
      );
      assert.equal(status.code, 1);
      assert.match(status.stderr, /serves NO configuration/);
      const ip = /sleep\.default\s+sidecar\s+(\S+)/.exec(status.stdout)![1]!;
      assert.equal(await curlVia(`http://${ip}:15001`, 'http://unregistered.example/'), 0, 'no listener at all');
      const apply = await tollgate(['apply', '-f', path.join(dir, 'sleep.yaml')], up);
      assert.equal(apply.code, 1);
      assert.match(apply.stderr, /TG0304/);

      fs.writeFileSync(path.join(dir, 'mesh.yaml'), REGISTRY_ONLY);
      await eventually(async () => ((await tollgate(['status'], up)).code === 0 ? true : undefined), 10_000, 'served');
      assert.equal(await curlVia(`http://${ip}:15001`, 'http://unregistered.example/'), 502);
    } finally {
      await up.stop();
    }
  });

  it('the CLI finds the admin token in ./mesh, as `tollgate up` run from the same directory leaves it', async () => {
    const cwd = tempDir('cwd');
    const up = await startUp(['--pod-cidr', `127.${octet()}.${octet()}.0/24`], cwd);
    try {
      const env = { TOLLGATE_CONTROLLER: up.url, TOLLGATE_CONFIG_DIR: '', TOLLGATE_TOKEN_FILE: '' };
      const here = await run(process.execPath, [BIN, 'get', 'all', '-A'], env, 10_000, cwd);
      assert.equal(here.code, 0, here.stderr);
      const elsewhere = await run(process.execPath, [BIN, 'get', 'all', '-A'], env, 10_000, tempDir('elsewhere'));
      assert.equal(elsewhere.code, 1);
      assert.match(elsewhere.stderr, /refused the request \(401: missing credential/);
      assert.match(
        elsewhere.stderr,
        /no admin token found at mesh\/\.tollgate\/admin-token \(from the default config directory/,
      );
      assert.match(elsewhere.stderr, /--config-dir DIR .* or --token-file FILE/);
      const told = await run(
        process.execPath,
        [BIN, '--token-file', path.join(cwd, 'mesh', '.tollgate', 'admin-token'), 'get', 'all', '-A'],
        env,
        10_000,
        tempDir('elsewhere'),
      );
      assert.equal(told.code, 0, told.stderr);
    } finally {
      await up.stop();
    }
  });

  it('more Deployments than --pod-cidr holds: up runs what fits and says what not; apply refuses one more', async () => {
    const dir = tempDir('cidr');
    const deployment = (name: string) => SLEEP_DEPLOYMENT.replace(/sleep/g, name);
    // A /28 holds 14 addresses: the default egress gateway and 13 sidecars; the 14th Deployment does not fit.
    fs.writeFileSync(
      path.join(dir, 'workloads.yaml'),
      Array.from({ length: 14 }, (_, i) => deployment(`w${String(i).padStart(2, '0')}`)).join('---\n'),
    );
    const cidr = `127.${octet()}.${octet()}.0/28`;
    for (let start = 0; start < 2; start++) {
      const up = await startUp(['--config-dir', dir, '--pod-cidr', cidr]);
      try {
        await eventually(
          async () =>
            /sidecar w13\.default not started: no pod address left in --pod-cidr/.test(up.output()) ? true : undefined,
          5_000,
          'the report of what did not start',
        );
        const status = await tollgate(['status'], up);
        assert.match(status.stdout, /w13\.default\s+sidecar\s+-\s+-\s+NOT CONNECTED/);
        const analyze = await tollgate(['analyze'], up);
        assert.match(analyze.stdout, /error TG0307 Deployment default\/w13/);
        const more = path.join(tempDir('more'), 'w14.yaml');
        fs.writeFileSync(more, deployment('w14'));
        const apply = await tollgate(['apply', '-f', more], up);
        assert.equal(apply.code, 1);
        assert.match(
          apply.stderr,
          /w14\.yaml:\d+:\d+: error TG0307 Deployment default\/w14 .*--pod-cidr 127\.\d+\.\d+\.0\/28 has 14/,
        );
        assert.equal(up.child.exitCode, null, 'up is still running');
      } finally {
        await up.stop();
      }
    }
  });
});
