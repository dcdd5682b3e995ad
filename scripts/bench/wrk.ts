// One wrk run against one target, parsed: requests per second, latency percentiles, errors.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors plus responses outside 2xx/3xx. */
  readonly errors: number;
}

export interface WrkTarget {
  /** Where wrk connects. */
  readonly host: string;
  readonly port: number;
  /** The request target: an absolute URL for a forward proxy, a path for a reverse proxy. */
  readonly requestTarget: string;
  /** The Host header. */
  readonly authority: string;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return n;
}

export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const total = /(\d+) requests in/.exec(text);
  const p = (q: string): number => {
    const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    return m ? toMs(m[1]!, m[2]!) : Number.NaN;
  };
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (socket) errors += socket.slice(1).reduce((a, b) => a + Number(b), 0);
  const non = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non) errors += Number(non[1]);
  if (!rps || !total) throw new Error(`unexpected wrk output:\n${text}`);
  return { requestsPerSecond: Number(rps[1]), requests: Number(total[1]), p50Ms: p('50'), p99Ms: p('99'), errors };
}

/** The CPUs wrk runs on (taskset's list form), when the bench pins its processes (BENCH_PIN); else anywhere. */
let wrkCpus: string | undefined;

export function pinWrk(cpus: string | undefined): void {
  wrkCpus = cpus;
}

/** Runs wrk with one thread (as the published figures), `connections` keep-alive connections, for `seconds`. */
export function runWrk(dir: string, target: WrkTarget, connections: number, seconds: number): Promise<WrkResult> {
  const script = path.join(dir, `wrk-${target.port}-${Buffer.from(target.requestTarget).toString('hex')}.lua`);
  if (!fs.existsSync(script)) {
    fs.writeFileSync(
      script,
      `wrk.path = ${JSON.stringify(target.requestTarget)}\nwrk.headers["Host"] = ${JSON.stringify(target.authority)}\n`,
    );
  }
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script];
  args.push(`http://${target.host}:${target.port}/`);
  return new Promise((resolve, reject) => {
    const [command, argv] = wrkCpus === undefined ? ['wrk', args] : ['taskset', ['-c', wrkCpus, 'wrk', ...args]];
    execFile(command, argv, { timeout: (seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`wrk ${args.join(' ')}: ${err.message}\n${stderr}`));
      else {
        try {
          resolve(parseWrk(stdout));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}
