// `npm run bench`: tollgate side by side with nginx, HAProxy, Squid, a plain node:http forward proxy and tollgate's
// own HTTP/1.1 codec as a bare proxy, all in front of one local upstream (nginx answering 301), driven by wrk at 50
// connections and at 1, targets interleaved over several rounds; then routing at 10, 1,000 and 10,000
// ServiceEntries and the config pipeline.
// Peers come from PATH and are skipped with a note when absent. Traffic stays on 127.0.0.0/8.
//
// Environment: BENCH_SECONDS (per wrk run, default 3), BENCH_ROUNDS (default 5), BENCH_ONLY (a regular
// expression over target names), BENCH_BASELINE (another checkout's root, built: its tollgate runs beside this
// one as "baseline"), BENCH_SCALE=0 (skip the ServiceEntry scale targets), BENCH_SIDE=0 (skip the side-by-side
// runs), BENCH_SCALE_PASSES and BENCH_SCALE_SECONDS (the passes over the scale sidecars, default 12 of 2 s each),
// BENCH_PUSH=0 (skip the controller push), BENCH_CONFIG=0 (skip the config pipeline figures),
// BENCH_PROXY_NODE_ARGS (Node options for the tollgate proxies and the Node peers, e.g.
// "--cpu-prof --cpu-prof-dir=DIR"), BENCH_PIN=1 (wrk and the upstream on CPU 0, the targets on the others).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { configFigures, proxyDecodeFigures } from './bench/config-pipeline.js';
import { pushFigures } from './bench/push.js';
import {
  onPath,
  type Started,
  startHaproxy,
  startNginxReverse,
  startCodecProxy,
  startNodeProxy,
  startSquid,
  startUpstream,
} from './bench/peers.js';
import { cpuSeconds, pinTrees, rssBytes } from './bench/proc-stats.js';
import { median, medians, ratioTable, type TargetFigures, table } from './bench/report.js';
import {
  EGRESS_HOST,
  scaleHost,
  startController,
  startProxy,
  type TollgateBuild,
  tollgateTarget,
  writeMainMesh,
  writeScaleMesh,
} from './bench/tollgate.js';
import { DIRECT_HOST, UPSTREAM } from './bench/peers.js';
import { pinWrk, runWrk, type WrkTarget } from './bench/wrk.js';

// Five short rounds rather than three long ones, in the same time: on a shared machine a target's throughput moves
// by up to half between runs seconds apart, and the median of five is moved less by one bad run than that of three.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/**
 * wrk's run at 50 connections before the rounds, per target: the pools are full and the code compiled. A tollgate
 * proxy reaches its steady throughput after about 10 s of load, as V8 optimizes its hot functions (a fresh sidecar,
 * runs of 2 s: 9,613 req/s, then 15,682, 18,389, 15,544, 19,362, and 21,029 from the sixth run on).
 */
const WARM_UP_SECONDS = 10;
/**
 * wrk's run at 50 connections before each measured one, not counted: on a shared machine a process that sat idle
 * while the other targets ran often does its first second or two at half its speed, whichever target it is.
 */
const ROUND_WARM_UP_SECONDS = 1;
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

const children: ChildProcess[] = [];
const stops: (() => void)[] = [];
/** Every process the side-by-side started, waited for after it: the push figures must not share the machine. */
const startedPids: number[] = [];

/** One request through the target until it answers as the upstream does (301), or the time is up. */
async function untilServing(t: WrkTarget, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    const status = await new Promise<number | string>((resolve) => {
      const req = http.request(
        { host: t.host, port: t.port, path: t.requestTarget, headers: { host: t.authority }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', (err) => resolve(err.message));
      req.setTimeout(2_000, () => req.destroy(new Error('timeout')));
      req.end();
    });
    if (status === 301) return;
    last = String(status);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${t.host}:${t.port} ${t.requestTarget} is not serving (last: ${last})`);
}

interface TollgateLayout {
  readonly build: TollgateBuild;
  /** Loopback /24 third octet for this layout's pods and controller. */
  readonly net: number;
}

async function startTollgate(dir: string, l: TollgateLayout, concurrency?: number): Promise<Started[]> {
  const mesh = path.join(dir, `mesh-${l.net}`);
  writeMainMesh(mesh);
  const controller = await startController(l.build, mesh, `127.0.${l.net}.100:15010`);
  children.push(controller.child);
  const gatewayIp = `127.0.${l.net}.1`;
  const sidecarIp = `127.0.${l.net}.2`;
  const up = `${UPSTREAM.ip}:${UPSTREAM.port}`;
  const cc = concurrency === undefined ? {} : { concurrency };
  const gateway = await startProxy(
    l.build,
    controller,
    { kind: 'gateway', ip: gatewayIp, connectTo: [`${EGRESS_HOST}:${UPSTREAM.port}:${up}`], ...cc },
    path.join(dir, `gateway-${l.net}.log`),
  );
  const sidecar = await startProxy(
    l.build,
    controller,
    { kind: 'sidecar', ip: sidecarIp, connectTo: [`${DIRECT_HOST}:${UPSTREAM.port}:${up}`], ...cc },
    path.join(dir, `sidecar-${l.net}.log`),
  );
  children.push(gateway, sidecar);
  const workers = concurrency === undefined || concurrency === 1 ? '' : `, ${concurrency} workers`;
  return [
    tollgateTarget(`${l.build.label} sidecar${workers}`, [sidecar.pid!], sidecarIp, DIRECT_HOST, []),
    tollgateTarget(
      `${l.build.label} sidecar -> gateway${workers}`,
      [sidecar.pid!, gateway.pid!],
      sidecarIp,
      EGRESS_HOST,
      [],
    ),
  ];
}

async function startScale(dir: string, build: TollgateBuild, n: number, net: number): Promise<Started> {
  const mesh = path.join(dir, `scale-${n}`);
  writeScaleMesh(mesh, n);
  const controller = await startController(build, mesh, `127.0.${net}.100:15010`);
  children.push(controller.child);
  const ip = `127.0.${net}.2`;
  const sidecar = await startProxy(
    build,
    controller,
    { kind: 'sidecar', ip, connectTo: [`::${UPSTREAM.ip}:${UPSTREAM.port}`] },
    path.join(dir, `scale-${n}.log`),
  );
  children.push(sidecar);
  return tollgateTarget(`${build.label} sidecar, ${n} ServiceEntries`, [sidecar.pid!], ip, scaleHost(n >> 1), []);
}

async function sideBySide(dir: string): Promise<void> {
  const upstream = startUpstream(dir);
  stops.push(upstream.stop);
  startedPids.push(...upstream.pids);
  await untilServing(upstream.target);

  const targets: Started[] = [];
  const wanted = (name: string): boolean => !ONLY || ONLY.test(name);
  const peer = async (binary: string, start: () => Started): Promise<void> => {
    if (!onPath(binary)) {
      console.log(`note: ${binary} is not on PATH; skipped (apt-get install ${binary})`);
      return;
    }
    const s = start();
    stops.push(s.stop);
    startedPids.push(...s.pids);
    if (wanted(s.name)) targets.push(s);
  };
  await peer('nginx', () => startNginxReverse(dir));
  await peer('haproxy', () => startHaproxy(dir));
  await peer('squid', () => startSquid(dir));
  for (const s of [startNodeProxy(), startCodecProxy()]) {
    stops.push(s.stop);
    startedPids.push(...s.pids);
    if (wanted(s.name)) targets.push(s);
  }

  const current: TollgateBuild = { label: 'tollgate', bin: path.join(ROOT, 'bin', 'tollgate.js') };
  // One worker per proxy, gateways included (theirs default to two), as the targets are stated.
  targets.push(...(await startTollgate(dir, { build: current, net: 78 }, 1)).filter((t) => wanted(t.name)));
  // The same with two workers per proxy (--concurrency 2): how far a second core takes it.
  targets.push(...(await startTollgate(dir, { build: current, net: 79 }, 2)).filter((t) => wanted(t.name)));
  const baselineRoot = process.env.BENCH_BASELINE;
  if (baselineRoot) {
    const baseline: TollgateBuild = {
      label: 'baseline',
      bin: path.join(path.resolve(baselineRoot), 'bin', 'tollgate.js'),
    };
    targets.push(...(await startTollgate(dir, { build: baseline, net: 80 })).filter((t) => wanted(t.name)));
  }
  const scale: ScaleTarget[] = [];
  if (process.env.BENCH_SCALE !== '0') {
    let net = 81;
    for (const n of [10, 1_000, 10_000]) {
      const s = await startScale(dir, current, n, net++);
      if (wanted(s.name)) {
        targets.push(s);
        scale.push({ n, started: s });
      }
    }
  }
  for (const t of targets) await untilServing(t.target);
  const pinned = pinning();
  if (pinned) {
    // The load and the upstream on one CPU, the target under test on the others: every target gets the same cores,
    // and the scheduler's placement, which moves one target's throughput by half from run to run, is out of it.
    pinWrk(pinned.load);
    pinTrees(upstream.pids, pinned.load);
    for (const t of targets) pinTrees(t.pids, pinned.targets);
  }
  for (const t of targets) await runWrk(dir, t.target, 50, WARM_UP_SECONDS);

  if (pinned)
    console.log(`\nwrk and the upstream pinned to CPU ${pinned.load}, every target to CPUs ${pinned.targets}`);
  console.log(
    `\n${targets.length} targets, each warmed up for ${WARM_UP_SECONDS} s, then ${ROUNDS} rounds of wrk -t1 for ${SECONDS} s at 50 connections (after ${ROUND_WARM_UP_SECONDS} s not counted) and at 1, interleaved\n`,
  );
  const figures: TargetFigures[] = targets.map((t) => ({ name: t.name, samples: [], rssBytes: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < targets.length; k++) {
      // Each round starts one target further on, so no target always runs first or right after a heavy one.
      const i = (k + round) % targets.length;
      const t = targets[i]!;
      await runWrk(dir, t.target, 50, ROUND_WARM_UP_SECONDS);
      const cpu0 = cpuSeconds(t.pids);
      const c50 = await runWrk(dir, t.target, 50, SECONDS);
      const cpu1 = cpuSeconds(t.pids);
      const c1 = await runWrk(dir, t.target, 1, SECONDS);
      figures[i]!.samples.push({
        rps50: c50.requestsPerSecond,
        cpuUsPerRequest: ((cpu1 - cpu0) / c50.requests) * 1e6,
        p50c1Ms: c1.p50Ms,
        p99c1Ms: c1.p99Ms,
        p99c50Ms: c50.p99Ms,
        errors: c50.errors + c1.errors,
      });
      process.stderr.write(
        `round ${round + 1} ${t.name}: ${c50.requests} requests at c50 (${Math.round(c50.requestsPerSecond)} req/s), ${c1.requests} at c1 (p50 ${c1.p50Ms} ms)\n`,
      );
    }
  }
  targets.forEach((t, i) => {
    figures[i]!.rssBytes = rssBytes(t.pids);
  });
  const rows = figures.map(medians);
  console.log(table(rows));
  console.log();
  console.log(ratioTable(rows));
  if (scale.length > 1) await scalePasses(dir, scale);
}

/**
 * BENCH_PIN=1: wrk and the upstream on CPU 0, the targets on the other CPUs (taskset). Needs two CPUs and taskset;
 * without them the bench says so and runs unpinned.
 */
function pinning(): { load: string; targets: string } | undefined {
  if (process.env.BENCH_PIN !== '1') return undefined;
  const cpus = os.cpus().length;
  if (cpus < 2 || !onPath('taskset')) {
    console.log('note: BENCH_PIN=1 needs two CPUs and taskset (util-linux); running unpinned');
    return undefined;
  }
  return { load: '0', targets: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

interface ScaleTarget {
  readonly n: number;
  readonly started: Started;
}

/**
 * Routing as hosts grow, measured in passes: in each, the scale sidecars run one after another (the order turns
 * every pass), each for a short wrk run at 50 connections, and each is compared with the fewest-hosts sidecar of
 * the same pass. On a shared machine throughput drifts by a fifth within a minute; a ratio taken within one
 * pass sees little of that drift, and the median over many passes little of what is left.
 */
async function scalePasses(dir: string, scale: readonly ScaleTarget[]): Promise<void> {
  const passes = Number(process.env.BENCH_SCALE_PASSES ?? 12);
  const seconds = Number(process.env.BENCH_SCALE_SECONDS ?? 2);
  console.log(
    `\nrouting as hosts grow: ${passes} passes over the ${scale.length} scale sidecars, wrk -t1 for ${seconds} s at 50 connections each (after ${ROUND_WARM_UP_SECONDS} s not counted)\n`,
  );
  const rps: number[][] = scale.map(() => []);
  const cpu: number[][] = scale.map(() => []);
  for (let pass = 0; pass < passes; pass++) {
    for (let k = 0; k < scale.length; k++) {
      const i = (k + pass) % scale.length;
      const t = scale[i]!.started;
      await runWrk(dir, t.target, 50, ROUND_WARM_UP_SECONDS);
      const cpu0 = cpuSeconds(t.pids);
      const w = await runWrk(dir, t.target, 50, seconds);
      const cpu1 = cpuSeconds(t.pids);
      if (w.errors > 0) throw new Error(`${t.name}: ${w.errors} errors in a scale pass`);
      rps[i]!.push(w.requestsPerSecond);
      cpu[i]!.push(((cpu1 - cpu0) / w.requests) * 1e6);
    }
  }
  const ratio = (series: number[][], i: number): number[] => series[i]!.map((v, pass) => v / series[0]![pass]!);
  const range = (values: number[]): string => `${Math.min(...values).toFixed(2)} to ${Math.max(...values).toFixed(2)}`;
  console.log(
    `| ServiceEntries | req/s c50 | CPU us/req | req/s against ${scale[0]!.n} (median of passes) | passes' range | CPU against ${scale[0]!.n} |`,
  );
  console.log('| --: | --: | --: | --: | --: | --: |');
  scale.forEach((s, i) => {
    const r = ratio(rps, i);
    console.log(
      `| ${s.n.toLocaleString('en-US')} | ${Math.round(median(rps[i]!)).toLocaleString('en-US')} | ${median(cpu[i]!).toFixed(0)} | ${median(r).toFixed(2)} | ${range(r)} | ${median(ratio(cpu, i)).toFixed(2)} |`,
    );
  });
}

function stopAll(): void {
  for (const s of stops) s();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}

/** Waits (up to 15 s) until every process the side-by-side started has exited. */
async function untilStopped(): Promise<void> {
  const pids = [...startedPids, ...children.map((c) => c.pid).filter((pid) => pid !== undefined)];
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let waited = 0; waited < 15_000 && pids.some(alive); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  console.log(
    `tollgate bench: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}\n`,
  );
  if (!onPath('wrk')) throw new Error('wrk is not on PATH (apt-get install wrk)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-'));
  // Squid drops to its own user, which must reach its folder inside.
  fs.chmodSync(dir, 0o755);
  try {
    if (process.env.BENCH_SIDE !== '0') await sideBySide(dir);
  } finally {
    stopAll();
  }
  await untilStopped();
  if (process.env.BENCH_PUSH !== '0') {
    console.log('\ncontroller push: 10,000 ServiceEntries, 100 connected proxies, one change applied\n');
    const builds: TollgateBuild[] = [{ label: 'tollgate', bin: path.join(ROOT, 'bin', 'tollgate.js') }];
    if (process.env.BENCH_BASELINE) {
      builds.push({
        label: 'baseline',
        bin: path.join(path.resolve(process.env.BENCH_BASELINE), 'bin', 'tollgate.js'),
      });
    }
    console.log(
      '| build | change at all 100 proxies | sent per proxy | first configs at all 100 | sent to one proxy while all joined |',
    );
    console.log('| --- | --: | --: | --: | --: |');
    for (const [i, build] of builds.entries()) {
      try {
        const r = await pushFigures(build, dir, 10_000, 100, 90 + i);
        console.log(
          `| ${r.label} | ${(r.changeMs / 1000).toFixed(2)} s | ${(r.bytesPerProxy / 2 ** 20).toFixed(2)} MiB (${r.encoding}) | ${(r.connectMs / 1000).toFixed(2)} s | ${(r.joinBytesPerProxy / 2 ** 20).toFixed(2)} MiB |`,
        );
      } catch (err) {
        console.log(`| ${build.label} | failed: ${(err as Error).message} | | | |`);
      }
    }
    console.log();
    await proxyDecodeFigures(10_000);
  }
  if (process.env.BENCH_CONFIG !== '0') {
    console.log();
    await configFigures([10, 1_000, 10_000]);
  }
  // Stopped processes may still be writing their last lines (an access log, Squid's cache) into the folder.
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    stopAll();
    process.exit(1);
  },
);
