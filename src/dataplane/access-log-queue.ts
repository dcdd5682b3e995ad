// Access-log lines are written off the request path. A stream's record is taken when it completes (its values and
// end time fixed then); its line is formatted and handed to the sink a little later: as soon as the next request
// has been sent on its way (at one connection, while that request waits for its upstream), or after
// `maxDelayMs` when no request follows. Formatted at once, the line of one request would hold up the reading of
// the next one on a keep-alive connection: the client's next request arrives while the proxy is still writing it.
import {
  type AccessLogEncoding,
  type AccessLogRecord,
  formatAccessLog,
  type LineFormat,
  type LogHeaders,
} from '../observability/index.js';

/** A line in meshConfig.accessLogFormat, and the request's and response's headers it may read. */
export interface CustomLine {
  readonly line: LineFormat;
  readonly headers: LogHeaders;
}

/** How long a completed stream's line may wait for the next request before it is written anyway. */
export const ACCESS_LOG_DELAY_MS = 5;

export class AccessLogQueue {
  private records: AccessLogRecord[] = [];
  /** Each record's format: an encoding's default, or meshConfig.accessLogFormat compiled, with the headers it reads. */
  private formats: (AccessLogEncoding | CustomLine)[] = [];
  /** The other pair of arrays: a flush swaps them, so that lines added while it runs wait for the next one. */
  private spareRecords: AccessLogRecord[] = [];
  private spareFormats: (AccessLogEncoding | CustomLine)[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };

  constructor(
    private readonly sink: (line: string, record: AccessLogRecord) => void,
    private readonly warn: (message: string) => void,
    private readonly maxDelayMs = ACCESS_LOG_DELAY_MS,
  ) {}

  get pending(): number {
    return this.records.length;
  }

  add(record: AccessLogRecord, format: AccessLogEncoding | CustomLine): void {
    this.records.push(record);
    this.formats.push(format);
    // Armed once and left to fire: a queue emptied by the next request in the meantime costs the timer nothing.
    if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.maxDelayMs);
      // Waiting lines do not keep the process alive; stopping flushes them.
      this.timer.unref();
    }
  }

  /** Writes every waiting line, in completion order. */
  flush(): void {
    const records = this.records;
    if (records.length === 0 || this.flushing) return;
    const formats = this.formats;
    this.records = this.spareRecords;
    this.formats = this.spareFormats;
    this.flushing = true;
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        try {
          const format = formats[i]!;
          const line =
            typeof format === 'string' ? formatAccessLog(record, format) : format.line(record, format.headers);
          this.sink(line, record);
        } catch (err) {
          this.warn(`access log: ${(err as Error).message}`);
        }
      }
    } finally {
      records.length = 0;
      formats.length = 0;
      this.spareRecords = records;
      this.spareFormats = formats;
      this.flushing = false;
    }
  }

  /** Writes what waits and stops the timer (the data plane is closing). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
