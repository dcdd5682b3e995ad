// A proxy's recent output lines (what `tollgate logs` shows), bounded, with followers for `logs -f`. A ring:
// adding a line costs the same however full the buffer is. Every line gets a number from one counter shared by all
// buffers, so the lines of several pods merge in arrival order.
//
// The lines are kept as UTF-8 bytes in one preallocated buffer, not as strings. A proxy adds one line per request,
// and a string kept for thousands of requests would outlive V8's young generation: each would be copied into the
// old generation, then found dead there by a full collection. Bytes in the buffer are copied once and never seen
// by the garbage collector; a line becomes a string again only when someone reads the logs.
let sequence = 0;

const NEWLINE = 0x0a;

export interface LogEntry {
  readonly seq: number;
  readonly line: string;
}

/** Lines kept at most (the latest). */
export const LOG_BUFFER_LINES = 10_000;
/** Bytes kept at most: 10,000 access-log lines of about 600 bytes fit, with room for longer ones. */
export const LOG_BUFFER_BYTES = 8 * 1024 * 1024;

/** Encodes lines as UTF-8 into one scratch buffer, grown when a line needs it: a line is encoded once, then copied. */
export class LineEncoder {
  bytes = Buffer.allocUnsafeSlow(16 * 1024);

  /** Writes the line's UTF-8 bytes at the start of `bytes` (valid until the next call); returns how many. */
  encode(line: string): number {
    // A character is at most 3 bytes per UTF-16 unit: a line that surely fits is written without being measured.
    if (line.length * 3 > this.bytes.length) {
      const needed = Buffer.byteLength(line, 'utf8');
      if (needed > this.bytes.length) this.bytes = Buffer.allocUnsafeSlow(Math.max(needed, 2 * this.bytes.length));
    }
    return this.bytes.write(line, 0, 'utf8');
  }
}

export class LogBuffer {
  private readonly bytes: Buffer;
  /** Each slot's line: where its bytes start in `bytes`, how many there are (its newline too), its sequence number. */
  private readonly starts: Int32Array;
  private readonly lengths: Int32Array;
  private readonly seqs: Float64Array;
  /** The slot the next line goes in. */
  private next = 0;
  private size = 0;
  /** Where the next line's bytes go. */
  private writeAt = 0;
  private readonly followers = new Set<(line: string) => void>();
  private readonly encoder = new LineEncoder();

  constructor(
    private readonly capacity = LOG_BUFFER_LINES,
    maxBytes = LOG_BUFFER_BYTES,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`log buffer capacity ${capacity}: expected >= 1`);
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new Error(`log buffer bytes ${maxBytes}: expected >= 1`);
    this.bytes = Buffer.allocUnsafeSlow(maxBytes);
    this.starts = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.seqs = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /**
   * Adds a line, dropping the oldest ones its bytes need. A line longer than the whole buffer is kept cut to it,
   * at a character boundary.
   */
  push(line: string): void {
    this.pushBytes(this.encoder.bytes, this.encoder.encode(line), line);
  }

  /** push() for a line already encoded: its UTF-8 bytes are `bytes[0, length)`, without a newline. */
  pushBytes(bytes: Buffer, length: number, line: string): void {
    const room = this.bytes.length;
    // Each line ends in a newline, so that every line takes at least one byte.
    let kept = length;
    if (kept + 1 > room) {
      kept = room - 1;
      // Not inside a character: back to the first byte of the one that would be cut.
      while (kept > 0 && ((bytes[kept] as number) & 0xc0) === 0x80) kept -= 1;
    }
    const wanted = kept + 1;
    let at = this.writeAt;
    if (at + wanted > room) {
      // Not enough room before the end: the lines still there are the oldest, and go before the start is reused.
      this.dropStartingIn(at, room);
      at = 0;
    }
    this.dropStartingIn(at, at + wanted);
    if (this.size === this.capacity) this.dropOldest();
    bytes.copy(this.bytes, at, 0, kept);
    this.bytes[at + kept] = NEWLINE;
    const slot = this.next;
    this.starts[slot] = at;
    this.lengths[slot] = wanted;
    this.seqs[slot] = ++sequence;
    this.writeAt = at + wanted;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    this.size += 1;
    if (this.followers.size > 0) for (const f of this.followers) f(line);
  }

  /** The last `n` lines (all of them without `n`), oldest first. */
  tail(n?: number): string[] {
    const out: string[] = [];
    this.walk(n, (at) => out.push(this.lineAt(at)));
    return out;
  }

  /** The last `n` entries (all without `n`), oldest first. */
  entries(n?: number): LogEntry[] {
    const out: LogEntry[] = [];
    this.walk(n, (at) => out.push({ seq: this.seqs[at]!, line: this.lineAt(at) }));
    return out;
  }

  follow(fn: (line: string) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }

  private lineAt(slot: number): string {
    const start = this.starts[slot]!;
    return this.bytes.toString('utf8', start, start + this.lengths[slot]! - 1);
  }

  /**
   * Drops the oldest lines while they start in [from, to). Lines lie in the buffer in the order they came, each at
   * least one byte: the oldest is the first at or after where the next line goes, and the newest ends there.
   */
  private dropStartingIn(from: number, to: number): void {
    while (this.size > 0) {
      const start = this.starts[this.oldest()]!;
      if (start < from || start >= to) return;
      this.dropOldest();
    }
  }

  private oldest(): number {
    const at = this.next - this.size;
    return at < 0 ? at + this.capacity : at;
  }

  private dropOldest(): void {
    this.size -= 1;
  }

  /** Visits the slots of the last `n` lines, oldest first. */
  private walk(n: number | undefined, visit: (slot: number) => void): void {
    const count = n === undefined ? this.size : Math.max(0, Math.min(n, this.size));
    let at = (this.next - count + this.capacity) % this.capacity;
    for (let i = 0; i < count; i++) {
      visit(at);
      at = at + 1 === this.capacity ? 0 : at + 1;
    }
  }
}

/** kubectl's `logs --prefix` form: "[pod/NAME/istio-proxy] ". */
export function podPrefix(pod: string): string {
  return `[pod/${pod}/istio-proxy] `;
}
