// One pod of local mode: a `tollgate proxy` child process, supervised as a kubelet supervises a container. It is
// restarted with exponential backoff when it exits without being asked to (a crash, a SIGKILL), keeps its pod
// name and address across restarts, and counts them. Its standard output (the access log, when meshConfig sends it
// to /dev/stdout) is collected line by line into the pod's log buffer; its standard error carries its events.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LogBuffer } from './log-buffer.js';

/** How the supervisor starts a proxy: the program and the arguments before `proxy ...`. */
export interface ProxyProgram {
  readonly command: string;
  readonly args: readonly string[];
}

export interface PodSpec {
  readonly pod: string;
  readonly namespace: string;
  /** The full argument list after the program's own (`--controller URL proxy gateway --name ...`). */
  readonly args: readonly string[];
}

/** Kubernetes' pod phases as `get pods` prints them. */
export type PodPhase = 'ContainerCreating' | 'Running' | 'CrashLoopBackOff' | 'Terminating' | 'Completed';

export interface PodInfo {
  readonly pod: string;
  readonly namespace: string;
  readonly phase: PodPhase;
  readonly restarts: number;
  /** When the current process started (ms since the epoch); the pod's age counts from its first start. */
  readonly createdAt: number;
  readonly pid: number | undefined;
  /** The last time its process ended without being asked to, as the supervisor saw it (ms since the epoch). */
  readonly lastCrash?: { readonly at: number; readonly reason: string };
}

/** Restart backoff: from 200 ms, doubling, capped at 10 s; reset after 10 s of running (kubelet: 10 s to 5 min). */
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;
const STABLE_AFTER_MS = 10_000;

export class PodProcess {
  readonly logs = new LogBuffer();
  private child: ChildProcess | undefined;
  private phase: PodPhase = 'ContainerCreating';
  private restarts = 0;
  private readonly createdAt = Date.now();
  private backoffMs = FIRST_BACKOFF_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private lastCrash: { at: number; reason: string } | undefined;

  constructor(
    private readonly program: ProxyProgram,
    readonly spec: PodSpec,
    private readonly out: {
      /** An access-log line of the pod. */
      readonly stdout: (line: string) => void;
      /** One of its event lines, or a supervisor's line about it. */
      readonly event: (line: string) => void;
    },
  ) {}

  get info(): PodInfo {
    return {
      pod: this.spec.pod,
      namespace: this.spec.namespace,
      phase: this.phase,
      restarts: this.restarts,
      createdAt: this.createdAt,
      pid: this.child?.pid,
      ...(this.lastCrash ? { lastCrash: this.lastCrash } : {}),
    };
  }

  start(): void {
    // Its own process group, so that a Ctrl-C meant for `up` reaches the proxies only through the supervisor (which
    // drains them in order); its stdin is a pipe from the supervisor, closed if the supervisor dies (`--supervised`).
    const child = spawn(this.program.command, [...this.program.args, ...this.spec.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdin!.on('error', () => {});
    this.child = child;
    const startedAt = Date.now();
    this.phase = 'Running';
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.logs.push(line);
      this.out.stdout(line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.out.event(line));
    child.on('error', (err) => this.out.event(`cannot start: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      // Not asked to stop: a crash. Restart after the backoff, as the kubelet does (CrashLoopBackOff).
      if (Date.now() - startedAt > STABLE_AFTER_MS) this.backoffMs = FIRST_BACKOFF_MS;
      this.phase = 'CrashLoopBackOff';
      this.restarts += 1;
      this.lastCrash = { at: Date.now(), reason: signal ?? `exit code ${code}` };
      this.out.event(
        `exited (${signal ?? `code ${code}`}); restarting in ${this.backoffMs} ms (restart ${this.restarts})`,
      );
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopping) this.start();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  /**
   * SIGTERM, as the kubelet stops a container: the proxy leaves the endpoints, drains and exits. After `graceMs`
   * (its drain time plus a margin) it is killed. Resolves when the process is gone.
   */
  stop(graceMs: number): Promise<void> {
    if (this.stopping) return this.stopping;
    clearTimeout(this.restartTimer);
    this.phase = 'Terminating';
    const child = this.child;
    this.stopping = new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        this.phase = 'Completed';
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        this.phase = 'Completed';
        resolve();
      });
      child.kill('SIGTERM');
    });
    return this.stopping;
  }
}
