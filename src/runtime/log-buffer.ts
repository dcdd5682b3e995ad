// A proxy's recent output lines (what `tollgate logs` shows), bounded, with followers for `logs -f`. A ring:
// adding a line costs the same however full the buffer is. Every line gets a number from one counter shared by all
// buffers, so the lines of several pods merge in arrival order.
let sequence = 0;

export interface LogEntry {
  readonly seq: number;
  readonly line: string;
}

export class LogBuffer {
  private readonly ring: (string | undefined)[];
  /** Each slot's sequence number, beside the ring so that a push allocates nothing. */
  private readonly seqs: Float64Array;
  /** Where the next line goes. */
  private next = 0;
  private size = 0;
  private readonly followers = new Set<(line: string) => void>();

  constructor(private readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`log buffer capacity ${capacity}: expected >= 1`);
    this.ring = new Array<string | undefined>(capacity);
    this.seqs = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(line: string): void {
    this.ring[this.next] = line;
    this.seqs[this.next] = ++sequence;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.size < this.capacity) this.size += 1;
    if (this.followers.size > 0) for (const f of this.followers) f(line);
  }

  /** The last `n` lines (all of them without `n`), oldest first. */
  tail(n?: number): string[] {
    const out: string[] = [];
    this.walk(n, (at) => out.push(this.ring[at]!));
    return out;
  }

  /** The last `n` entries (all without `n`), oldest first. */
  entries(n?: number): LogEntry[] {
    const out: LogEntry[] = [];
    this.walk(n, (at) => out.push({ seq: this.seqs[at]!, line: this.ring[at]! }));
    return out;
  }

  follow(fn: (line: string) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
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
