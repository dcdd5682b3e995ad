// Sustained load for end-to-end tests: wrk, run until the test stops it (SIGINT makes wrk print its summary), with
// its own count of failed requests: responses other than 2xx/3xx and socket errors.
import { spawn, spawnSync } from 'node:child_process';

export interface LoadResult {
  readonly requests: number;
  /** Responses other than 2xx or 3xx. */
  readonly badResponses: number;
  /** wrk's socket errors: connect, read, write, timeout. */
  readonly socketErrors: number;
  readonly seconds: number;
  readonly output: string;
}

export function wrkMissing(): false | string {
  return spawnSync('wrk', ['--version']).error ? 'wrk is not installed (apt-get install wrk; .ci/run does)' : false;
}

/**
 * Starts wrk against `url` with these headers; `stop()` ends it and parses its summary. Spell them as wrk does
 * ("Host"): wrk replaces its own header only when the name matches exactly, and otherwise sends both.
 */
export function startLoad(
  url: string,
  headers: Readonly<Record<string, string>>,
  connections = 8,
): { stop(): Promise<LoadResult> } {
  const args = ['-t1', `-c${connections}`, '-d300s', '--timeout', '10s'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const child = spawn('wrk', [...args, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      return parseWrk(output);
    },
  };
}

export function parseWrk(output: string): LoadResult {
  const summary = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(output);
  if (!summary) throw new Error(`wrk printed no summary:\n${output}`);
  const unit = summary[3] === 'ms' ? 0.001 : summary[3] === 'm' ? 60 : 1;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: Number(summary[1]),
    seconds: Number(summary[2]) * unit,
    badResponses: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
    output,
  };
}
