// A proxy process with --concurrency N > 1: N workers (node:cluster), each a data plane serving the same
// listeners, as Envoy runs N worker threads behind one listener set. The primary keeps the discovery stream and
// the log buffer; it hands every config to every worker and ACKs only what all of them applied. A worker that
// dies is replaced and given the config in force.
import cluster, { type Worker } from 'node:cluster';
import type { ApplyResult } from '../dataplane/index.js';
import type { ProxyConfig } from '../proxy-config/types.js';
import { isWorkerMessage, type PrimaryMessage, type WorkerInit, type WorkerMessage } from './worker-protocol.js';

export interface WorkerPlanesOptions {
  readonly concurrency: number;
  readonly init: WorkerInit;
  /** Access-log lines from any worker, each ending in a newline. */
  readonly onLog: (text: string) => void;
  readonly onWarning: (message: string) => void;
}

const WORKER_MAIN = new URL('./proxy-worker-main.js', import.meta.url).pathname;
const STOP_GRACE_MS = 5_000;

interface Member {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  /** Apply requests sent to this worker and not answered yet, by id. */
  readonly waiting: Map<number, (r: ApplyResult) => void>;
}

export class WorkerPlanes {
  private readonly members = new Set<Member>();
  private nextId = 1;
  private current: ProxyConfig | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: WorkerPlanesOptions) {
    if (!cluster.isPrimary) throw new Error('worker planes are started from the primary process');
    cluster.setupPrimary({ exec: WORKER_MAIN, args: [] });
    for (let i = 0; i < options.concurrency; i++) this.spawn();
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  get workerCount(): number {
    return this.members.size;
  }

  /** Pushes are applied one at a time; the result is ok only when every worker applied the config. */
  apply(config: ProxyConfig): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyAll(config));
    this.queue = run.catch(() => {});
    return run;
  }

  private async applyAll(config: ProxyConfig): Promise<ApplyResult> {
    if (this.stopping) return { ok: false, error: 'the proxy is stopping' };
    const results = await Promise.all([...this.members].map((m) => this.applyOn(m, config)));
    const failed = results.find((r): r is { ok: false; error: string } => !r.ok);
    if (failed) return failed;
    this.current = config;
    return { ok: true };
  }

  private async applyOn(m: Member, config: ProxyConfig): Promise<ApplyResult> {
    await m.ready;
    const id = this.nextId++;
    return new Promise<ApplyResult>((resolve) => {
      m.waiting.set(id, resolve);
      this.send(m, { type: 'apply', id, config });
    });
  }

  private spawn(): void {
    const worker = cluster.fork();
    let markReady: () => void = () => {};
    const m: Member = { worker, ready: new Promise<void>((r) => (markReady = r)), waiting: new Map() };
    this.members.add(m);
    worker.on('error', (err) => this.options.onWarning(`worker ${worker.id}: ${err.message}`));
    worker.on('message', (msg: unknown) => {
      if (!isWorkerMessage(msg)) return;
      this.onMessage(m, msg, markReady);
    });
    worker.once('exit', (code, signal) => {
      this.members.delete(m);
      markReady();
      for (const resolve of m.waiting.values()) resolve({ ok: false, error: `worker ${worker.id} exited` });
      m.waiting.clear();
      if (this.stopping) return;
      this.options.onWarning(`worker ${worker.id} exited (${signal ?? code}); starting another`);
      this.spawn();
      const config = this.current;
      const replacement = [...this.members].at(-1);
      if (config && replacement) {
        void this.applyOn(replacement, config).then((r) => {
          if (!r.ok) this.options.onWarning(`replacement worker rejected config ${config.version}: ${r.error}`);
        });
      }
    });
  }

  private onMessage(m: Member, msg: WorkerMessage, markReady: () => void): void {
    switch (msg.type) {
      case 'ready':
        this.send(m, { type: 'init', init: this.options.init });
        markReady();
        return;
      case 'applied': {
        const resolve = m.waiting.get(msg.id);
        m.waiting.delete(msg.id);
        resolve?.(msg.ok ? { ok: true } : { ok: false, error: msg.error ?? 'rejected' });
        return;
      }
      case 'log':
        this.options.onLog(msg.text);
        return;
      case 'warning':
        this.options.onWarning(msg.message);
        return;
      case 'stopped':
        return;
    }
  }

  private send(m: Member, msg: PrimaryMessage): void {
    if (m.worker.isConnected()) m.worker.send(msg);
  }

  /** Each worker closes its listeners and sends its last lines, then exits; stragglers are killed. */
  close(): Promise<void> {
    return this.stopAll({ type: 'stop' }, STOP_GRACE_MS);
  }

  /** Each worker drains its listeners for up to `graceMs` (as DataPlane.drain), sends its last lines and exits. */
  drain(graceMs: number): Promise<void> {
    return this.stopAll({ type: 'drain', graceMs }, graceMs + STOP_GRACE_MS);
  }

  private async stopAll(message: PrimaryMessage, killAfterMs: number): Promise<void> {
    this.stopping = true;
    await this.queue;
    await Promise.all(
      [...this.members].map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.worker.isDead()) return resolve();
            const timer = setTimeout(() => m.worker.kill('SIGKILL'), killAfterMs);
            m.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            this.send(m, message);
          }),
      ),
    );
  }
}
