// `tollgate proxy --concurrency N`: N worker processes share the listeners, each with the config the primary
// received; their access-log lines reach the primary's standard output and `logs`; a worker that dies is
// replaced by one that serves the config in force; SIGTERM drains every worker before the proxy exits.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { documents, httpServiceEntry, SLEEP_DEPLOYMENT } from '../helpers/fixtures.js';
import { BIN, type ControllerProcess, eventually, startController, tempDir } from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SUBNET = `127.${octet()}.${octet()}`;
const SIDECAR_IP = `${SUBNET}.2`;
const ACCESS_LOG = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig: {accessLogFile: /dev/stdout}
`;

function workersOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const list = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (list !== '') out.push(...list.split(/\s+/).map(Number));
  }
  return out;
}

/** One request on a new connection: node:cluster hands each new connection to the next worker. */
function get(pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: SIDECAR_IP,
        port: 15001,
        path: `http://site.test:8000${pathname}`,
        headers: { host: 'site.test:8000' },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('a proxy with --concurrency 2', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let site: http.Server;
  let controller: ControllerProcess;
  let sidecar: ChildProcess;
  let output = '';

  before(async () => {
    site = http.createServer((req, res) => {
      // /slow answers after a while: a request in flight while the proxy drains.
      if (req.url === '/slow') setTimeout(() => res.writeHead(204).end(), 1_500);
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const sitePort = (site.address() as AddressInfo).port;
    const configDir = tempDir('concurrency');
    fs.writeFileSync(
      path.join(configDir, 'mesh.yaml'),
      documents(SLEEP_DEPLOYMENT, ACCESS_LOG, httpServiceEntry('site', 'site.test', 8000)),
    );
    controller = await startController(configDir);
    sidecar = spawn(
      process.execPath,
      [
        BIN,
        '--controller',
        controller.url,
        'proxy',
        'sidecar',
        '--name',
        'sleep',
        '--ip',
        SIDECAR_IP,
        '--label',
        'app=sleep',
        '--token-file',
        path.join(configDir, '.tollgate', 'proxy-token'),
        '--connect-to',
        `site.test:8000:127.0.0.1:${sitePort}`,
        '--concurrency',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    sidecar.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    sidecar.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => (await get('/ready').catch(() => 0)) === 204 || undefined, 20_000, 'serving');
  });

  after(async () => {
    if (sidecar && sidecar.exitCode === null && sidecar.signalCode === null) {
      await new Promise<void>((resolve) => {
        sidecar.once('exit', () => resolve());
        sidecar.kill('SIGTERM');
      });
    }
    await controller?.stop();
    await new Promise<void>((resolve) => site.close(() => resolve()));
  });

  test('two workers serve every connection, and each request has its access-log line on stdout', async () => {
    assert.match(output, /sidecar at \S+ \(2 workers\)/);
    assert.equal(workersOf(sidecar.pid!).length, 2);
    // Connections alternate between the workers: a worker without the config would fail half of these.
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => get(`/w${i}`)));
    assert.deepEqual(statuses, Array(10).fill(204));
    await eventually(
      async () => Array.from({ length: 10 }, (_, i) => `"path":"/w${i}"`).every((p) => output.includes(p)) || undefined,
      10_000,
      'an access-log line per request',
    );
  });

  test('killed workers are replaced by ones that serve the config in force', async () => {
    const originals = workersOf(sidecar.pid!);
    // One at a time, so that afterwards only replacements are left to serve.
    for (const victim of originals) {
      process.kill(victim, 'SIGKILL');
      await eventually(
        async () => {
          const now = workersOf(sidecar.pid!);
          return now.length === 2 && !now.includes(victim) ? now : undefined;
        },
        10_000,
        'a replacement worker',
      );
    }
    assert.ok(workersOf(sidecar.pid!).every((pid) => !originals.includes(pid)));
    assert.match(output, /warning: worker \d+ exited \(SIGKILL\); starting another/);
    await eventually(
      async () => {
        const statuses = await Promise.all(Array.from({ length: 6 }, () => get('/after').catch(() => 0)));
        return statuses.every((s) => s === 204) || undefined;
      },
      10_000,
      'every connection served by the replacements',
    );
  });

  test('SIGTERM drains every worker: a request in flight is answered, then the proxy and its workers exit', async () => {
    const workers = workersOf(sidecar.pid!);
    const inFlight = get('/slow');
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((resolve) => sidecar.once('exit', (code) => resolve(code)));
    sidecar.kill('SIGTERM');
    assert.equal(await inFlight, 204, 'the request in flight during the drain is answered');
    assert.equal(await exited, 0);
    assert.match(output, /draining \(up to 5000 ms\)[\s\S]*drained/);
    for (const pid of workers) {
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
    }
  });
});
