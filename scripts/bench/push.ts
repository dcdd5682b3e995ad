// The controller's push at scale: 10,000 ServiceEntries, 100 connected proxies (replicas of one Deployment, as a
// scaled workload is), a change applied through the admin API, and the time until the change's bytes have
// reached every proxy's connection, with their size. Then, apart, what one proxy does with them (decode, parse,
// compile), which each proxy does in its own process. The controller is the real `tollgate controller` process.
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { StreamReport } from './push-clients.js';
import { startController, type TollgateBuild, writeScaleMesh } from './tollgate.js';

function post(url: string, token: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        authorization: `Bearer ${token}`,
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface PushFigures {
  readonly label: string;
  /** From the apply request to the change's last byte arriving at the last of the proxies. */
  readonly changeMs: number;
  /** What one proxy received for the change, as sent. */
  readonly bytesPerProxy: number;
  readonly encoding: string;
  /** From connecting all proxies to every one having its config and the pushes going quiet. */
  readonly connectMs: number;
  /** The most that one proxy received meanwhile: its own first config, and whatever the others' joining sent it. */
  readonly joinBytesPerProxy: number;
}

const QUIET_MS = 1_000;
const TIMEOUT_MS = 90_000;

function report(clients: ChildProcess): Promise<StreamReport> {
  return new Promise((resolve, reject) => {
    if (clients.exitCode !== null) return reject(new Error(`a discovery stream failed (${clients.exitCode})`));
    const exited = (code: number | null): void => reject(new Error(`a discovery stream failed (${code})`));
    clients.once('exit', exited);
    clients.once('message', (m: StreamReport) => {
      clients.off('exit', exited);
      resolve(m);
    });
    clients.send({ type: 'report' });
  });
}

/** Until every stream has received bytes since the mark and none has for QUIET_MS: the last arrival. */
async function untilQuiet(clients: ChildProcess, deadline: number): Promise<StreamReport & { last: number }> {
  for (;;) {
    const r = await report(clients);
    const last = Math.max(...r.lastAt);
    if (r.bytes.every((b) => b > 0) && Date.now() - last > QUIET_MS) return { ...r, last };
    if (Date.now() > deadline) throw new Error('the controller did not reach every proxy in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function pushFigures(
  build: TollgateBuild,
  dir: string,
  services: number,
  proxies: number,
  net: number,
): Promise<PushFigures> {
  const mesh = path.join(dir, `push-${build.label}-${services}`);
  writeScaleMesh(mesh, services);
  const controller = await startController(build, mesh, `127.0.${net}.100:15010`);
  const token = fs.readFileSync(controller.tokenFile, 'utf8').trim();
  const adminToken = fs.readFileSync(path.join(mesh, '.tollgate', 'admin-token'), 'utf8').trim();
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'push-clients.js');
  const clients = fork(script, [controller.url, token, String(proxies)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const connectStart = Date.now();
    const connected = await untilQuiet(clients, connectStart + TIMEOUT_MS);
    const connectMs = connected.last - connectStart;
    clients.send({ type: 'mark' });
    const start = Date.now();
    const status = await post(`${controller.url}/v1/apply`, adminToken, {
      files: [
        {
          name: 'changed.yaml',
          content: `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: changed}
spec:
  hosts: [changed.bench.internal]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: DNS
`,
        },
      ],
    });
    if (status !== 200) throw new Error(`apply answered ${status}`);
    const changed = await untilQuiet(clients, start + TIMEOUT_MS);
    return {
      label: build.label,
      changeMs: changed.last - start,
      bytesPerProxy: Math.max(...changed.bytes),
      encoding: changed.encoding,
      connectMs,
      joinBytesPerProxy: Math.max(...connected.bytes),
    };
  } finally {
    clients.kill('SIGTERM');
    controller.child.kill('SIGTERM');
  }
}
