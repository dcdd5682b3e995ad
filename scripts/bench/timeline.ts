// `npm run bench:timeline`: where one request's time goes at one connection, step by step, for tollgate's sidecar
// beside the bare codec and a Node TCP relay (the floor of any proxy in Node), with nginx's p50 for the bar.
// Each proxy runs with `timeline-hooks.ts`, which timestamps every socket read and write; wrk drives one
// connection; the marks are then cut into request cycles (a request read from the client, to the next one) and
// each step's median is printed. The steps that are JavaScript (the request leg, the response leg) are the
// proxy's own; the writes are system calls; the waits are the upstream's and wrk's.
//
// Environment: BENCH_SECONDS (per wrk run, default 5), BENCH_ROUNDS (default 3), BENCH_BASELINE (another built
// checkout: its sidecar runs beside this one's).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Mark } from './timeline-hooks.js';
import {
  DIRECT_HOST,
  type Started,
  startCodecProxy,
  startNginxReverse,
  startTcpRelay,
  startUpstream,
  stopChild,
  UPSTREAM,
} from './peers.js';
import { median } from './report.js';
import { startController, startProxy, type TollgateBuild, tollgateTarget, writeMainMesh } from './tollgate.js';
import { runWrk } from './wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BASELINE = process.env.BENCH_BASELINE;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

interface Window {
  readonly from: number;
  readonly to: number;
}

/** One request cycle: the first time of each mark after the request was read, and the next request's read. */
type Cycle = Map<Mark, number>;

const STEPS: readonly { readonly name: string; readonly from: keyof Times; readonly to: keyof Times }[] = [
  { name: 'request leg (JavaScript): request read -> write upstream', from: 'read', to: 'upstreamWrite' },
  { name: 'the write upstream (system call)', from: 'upstreamWrite', to: 'upstreamSent' },
  { name: 'waiting for the upstream', from: 'upstreamSent', to: 'upstreamRead' },
  { name: 'response leg (JavaScript): response read -> write downstream', from: 'upstreamRead', to: 'downstreamWrite' },
  { name: 'the write downstream (system call)', from: 'downstreamWrite', to: 'downstreamSent' },
  { name: 'the rest of that callback', from: 'downstreamSent', to: 'callbackEnd' },
  { name: 'until the next request is read (wrk, the loop)', from: 'callbackEnd', to: 'next' },
  { name: 'whole cycle', from: 'read', to: 'next' },
];

interface Times {
  read: number;
  upstreamWrite: number;
  upstreamSent: number;
  upstreamRead: number;
  downstreamWrite: number;
  downstreamSent: number;
  callbackEnd: number;
  next: number;
}

function readMarks(file: string): [Mark, number][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [m, t] = l.split(' ');
      return [Number(m) as Mark, Number(t)];
    });
}

function cycles(marks: readonly [Mark, number][], windows: readonly Window[]): Cycle[] {
  const out: Cycle[] = [];
  let cur: Cycle | undefined;
  const inside = (t: number): boolean => windows.some((w) => t >= w.from && t <= w.to);
  for (const [m, t] of marks) {
    if (!inside(t)) {
      cur = undefined;
      continue;
    }
    if (m === Mark.DownstreamData) {
      if (cur !== undefined) out.push(cur);
      cur = new Map([[m, t]]);
      continue;
    }
    if (cur === undefined) continue;
    // The last write and uncork returns count (a write may be corked), the first of everything else.
    const last =
      m === Mark.UpstreamWriteReturn ||
      m === Mark.UpstreamUncorkReturn ||
      m === Mark.DownstreamWriteReturn ||
      m === Mark.DownstreamUncorkReturn;
    if (last || !cur.has(m)) cur.set(m, t);
  }
  return out;
}

function times(c: Cycle, next: Cycle): Times | undefined {
  const get = (m: Mark): number | undefined => c.get(m);
  const sent = (write: Mark, ret: Mark, uncork: Mark, before: number | undefined): number | undefined => {
    const w = get(write);
    if (w === undefined) return undefined;
    const candidates = [get(ret), get(uncork)].filter(
      (t): t is number => t !== undefined && t >= w && (before === undefined || t <= before),
    );
    return candidates.length === 0 ? undefined : Math.max(...candidates);
  };
  const t: Partial<Times> = {
    read: get(Mark.DownstreamData),
    upstreamWrite: get(Mark.UpstreamWrite),
    upstreamRead: get(Mark.UpstreamData),
    downstreamWrite: get(Mark.DownstreamWrite),
    callbackEnd: get(Mark.UpstreamDataEnd),
    next: next.get(Mark.DownstreamData),
  };
  t.upstreamSent = sent(Mark.UpstreamWrite, Mark.UpstreamWriteReturn, Mark.UpstreamUncorkReturn, t.upstreamRead);
  t.downstreamSent = sent(Mark.DownstreamWrite, Mark.DownstreamWriteReturn, Mark.DownstreamUncorkReturn, t.callbackEnd);
  for (const v of Object.values(t)) if (v === undefined) return undefined;
  return t as Times;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-timeline-'));
  fs.chmodSync(dir, 0o755);
  const marksDir = path.join(dir, 'marks');
  fs.mkdirSync(marksDir);
  const hooks = path.join(path.dirname(new URL(import.meta.url).pathname), 'timeline-hooks.js');
  const nodeOptions = process.env.NODE_OPTIONS;
  const hooked = { TOLLGATE_TIMELINE_DIR: marksDir, NODE_OPTIONS: `${nodeOptions ?? ''} --import ${hooks}`.trim() };
  /** Every process started, as its stop: the peers and proxies, and the controllers behind the sidecars. */
  const stops: (() => void)[] = [];
  const stopAll = (): void => {
    for (const stop of stops) stop();
  };
  process.once('exit', stopAll);
  const upstream = startUpstream(dir);
  const nginx = startNginxReverse(dir);
  stops.push(upstream.stop, nginx.stop);
  // Only the proxies in Node carry the hooks.
  Object.assign(process.env, hooked);
  const relay = startTcpRelay();
  const codec = startCodecProxy();
  stops.push(relay.stop, codec.stop);
  const sidecars: { target: Started; child: ChildProcess }[] = [];
  const builds: TollgateBuild[] = [{ label: 'tollgate', bin: path.join(ROOT, 'bin', 'tollgate.js') }];
  if (BASELINE) builds.push({ label: 'baseline', bin: path.join(path.resolve(BASELINE), 'bin', 'tollgate.js') });
  for (const [i, build] of builds.entries()) {
    const mesh = path.join(dir, `mesh-${i}`);
    writeMainMesh(mesh);
    const net = 91 + i;
    const controller = await startController(build, mesh, `127.0.${net}.100:15010`);
    stops.push(() => stopChild(controller.child));
    const child = await startProxy(
      build,
      controller,
      {
        kind: 'sidecar',
        ip: `127.0.${net}.2`,
        connectTo: [`${DIRECT_HOST}:${UPSTREAM.port}:${UPSTREAM.ip}:${UPSTREAM.port}`],
      },
      path.join(dir, `sidecar-${i}.log`),
    );
    const target = tollgateTarget(`${build.label} sidecar`, [child.pid!], `127.0.${net}.2`, DIRECT_HOST, [child]);
    stops.push(target.stop);
    sidecars.push({ target, child });
  }
  const targets = [nginx, relay, codec, ...sidecars.map((s) => s.target)];
  const windows = new Map<Started, Window[]>(targets.map((t) => [t, []]));
  const p50s = new Map<Started, number[]>(targets.map((t) => [t, []]));
  try {
    await new Promise((r) => setTimeout(r, 1500));
    // A warm-up at 50 connections, as the bench runs one before its single-connection run.
    for (const t of targets) await runWrk(dir, t.target, 50, 2);
    console.log(`${targets.length} targets, ${ROUNDS} rounds of wrk -t1 -c1 for ${SECONDS} s, interleaved`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (let k = 0; k < targets.length; k++) {
        // Each round starts one target further on, as the bench's rounds do: no target always runs right after
        // the same one.
        const t = targets[(k + round - 1) % targets.length]!;
        const from = Date.now();
        const r = await runWrk(dir, t.target, 1, SECONDS);
        windows.get(t)!.push({ from, to: Date.now() });
        p50s.get(t)!.push(r.p50Ms);
        console.log(`round ${round} ${t.name}: ${r.requests} requests, p50 ${r.p50Ms} ms`);
      }
    }
  } finally {
    stopAll();
    await Promise.all(sidecars.map((s) => new Promise((r) => s.child.once('exit', r))));
    await new Promise((r) => setTimeout(r, 500));
  }

  const measured = targets.slice(1);
  const columns = measured.map((t) => {
    const file = path.join(marksDir, `marks-${t.pids[0]}.txt`);
    const all = cycles(readMarks(file), windows.get(t)!);
    const steps = new Map<string, number[]>(STEPS.map((s) => [s.name, []]));
    let counted = 0;
    for (let i = 0; i + 1 < all.length; i++) {
      const tm = times(all[i]!, all[i + 1]!);
      if (tm === undefined) continue;
      counted++;
      for (const s of STEPS) steps.get(s.name)!.push((tm[s.to] - tm[s.from]) * 1000);
    }
    return { name: t.name, counted, steps };
  });
  const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
  console.log(
    `\nmedian µs per step, over the request cycles of all rounds (nginx p50: ${median(p50s.get(nginx)!)} ms)\n`,
  );
  console.log(`| step | ${columns.map((c) => c.name).join(' | ')} |`);
  console.log(`| --- | ${columns.map(() => '--:').join(' | ')} |`);
  for (const s of STEPS) {
    console.log(`| ${s.name} | ${columns.map((c) => fmt(median(c.steps.get(s.name)!))).join(' | ')} |`);
  }
  console.log(`| wrk's p50 (ms) | ${measured.map((t) => median(p50s.get(t)!).toFixed(3)).join(' | ')} |`);
  console.log(`| request cycles counted | ${columns.map((c) => c.counted).join(' | ')} |`);
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}

await main();
