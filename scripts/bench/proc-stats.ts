// CPU time and resident memory of a process and its descendants, read from /proc (Linux), and their CPU placement.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const TICKS_PER_SECOND = 100;

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      const list = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (list !== '') for (const c of list.split(/\s+/)) out.push(Number(c));
    } catch {
      // the task ended meanwhile
    }
  }
  return out;
}

/** The process and every descendant alive now. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]!));
  return all;
}

/** User plus system CPU seconds used so far by the trees rooted at `pids`. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const root of pids) {
    for (const pid of processTree(root)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name (which may hold spaces) start past its closing parenthesis.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone
      }
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident memory in bytes of the trees rooted at `pids`. */
export function rssBytes(pids: readonly number[]): number {
  let kib = 0;
  for (const root of pids) {
    for (const pid of processTree(root)) {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) kib += Number(m[1]);
      } catch {
        // gone
      }
    }
  }
  return kib * 1024;
}

/**
 * Keeps every thread of the trees rooted at `pids` on the CPUs in `cpus` (taskset's list form: "0", "1-3"). A
 * process that starts later in a tree (a worker restarted) is not moved.
 */
export function pinTrees(pids: readonly number[], cpus: string): void {
  for (const root of pids) {
    for (const pid of processTree(root)) {
      try {
        execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
      } catch {
        // the process ended meanwhile
      }
    }
  }
}
