// Access-log lines written in batches, as Envoy's file access log flushes on an interval rather than per line:
// a write (a system call for a file or a terminal) per request costs more than the request's own bookkeeping.
// Lines go out when the batch reaches `maxBytes`, when `intervalMs` has passed since the first line waiting, and
// whenever flush() is called (at stop and at process exit).

/** Envoy's default access-log flush interval (file_flush_interval_msec). */
export const ACCESS_LOG_FLUSH_INTERVAL_MS = 1_000;
/** Envoy flushes a file's buffer at 64 KiB too. */
export const ACCESS_LOG_FLUSH_BYTES = 64 * 1024;

export class BatchedOutput {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly flushNow = (): void => this.flush();

  constructor(
    /** Receives whole lines, each ending in a newline. */
    private readonly sink: (text: string) => void,
    private readonly intervalMs = ACCESS_LOG_FLUSH_INTERVAL_MS,
    private readonly maxBytes = ACCESS_LOG_FLUSH_BYTES,
  ) {}

  write(line: string): void {
    this.pending += `${line}\n`;
    if (this.pending.length >= this.maxBytes) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.flushNow, this.intervalMs);
      // A pending batch does not keep the process alive; exit flushes it.
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.sink(text);
  }
}
