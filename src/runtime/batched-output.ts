// Access-log lines written in batches, as Envoy's file access log flushes on an interval rather than per line:
// a write (a system call for a file or a terminal) per request costs more than the request's own bookkeeping.
// Lines go out when the batch (`maxBytes`) is full or the next line does not fit, when `intervalMs` has passed
// since the first line waiting, and whenever flush() is called (at stop and at process exit).
import { LineEncoder } from './log-buffer.js';

/** Envoy's default access-log flush interval (file_flush_interval_msec). */
export const ACCESS_LOG_FLUSH_INTERVAL_MS = 1_000;
/** Envoy flushes a file's buffer at 64 KiB too. */
export const ACCESS_LOG_FLUSH_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

export class BatchedOutput {
  /**
   * The batch, as bytes: each line is encoded once and copied in. Strings joined into a batch would be a tree of
   * fragments, flattened and then encoded again at the write.
   */
  private readonly batch: Buffer;
  private readonly encoder = new LineEncoder();
  private used = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushNow = (): void => this.flush();

  constructor(
    /** Receives whole lines, each ending in a newline, in a buffer that is the sink's to keep. */
    private readonly sink: (bytes: Buffer) => void,
    private readonly intervalMs = ACCESS_LOG_FLUSH_INTERVAL_MS,
    maxBytes = ACCESS_LOG_FLUSH_BYTES,
  ) {
    this.batch = Buffer.allocUnsafeSlow(maxBytes);
  }

  write(line: string): void {
    this.writeBytes(this.encoder.bytes, this.encoder.encode(line));
  }

  /** write() for a line already encoded: its UTF-8 bytes are `bytes[0, length)`, without a newline. */
  writeBytes(bytes: Buffer, length: number): void {
    if (this.used + length + 1 > this.batch.length) {
      this.flush();
      if (length + 1 > this.batch.length) {
        const own = Buffer.allocUnsafeSlow(length + 1);
        bytes.copy(own, 0, 0, length);
        own[length] = NEWLINE;
        this.sink(own);
        return;
      }
    }
    bytes.copy(this.batch, this.used, 0, length);
    this.batch[this.used + length] = NEWLINE;
    this.used += length + 1;
    this.lineAdded();
  }

  /** A full batch goes now; else the first line waiting starts the interval. */
  private lineAdded(): void {
    if (this.used >= this.batch.length) this.flush();
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
    if (this.used === 0) return;
    // A copy: the sink may hold on to its bytes (a pipe that is full), and the batch is filled again meanwhile.
    const bytes = Buffer.allocUnsafeSlow(this.used);
    this.batch.copy(bytes, 0, 0, this.used);
    this.used = 0;
    this.sink(bytes);
  }
}
