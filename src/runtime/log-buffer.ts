// A proxy's recent output lines (what `tollgate logs` shows), bounded, with followers for `logs -f`. Every line
// gets a number from one counter shared by all buffers, so the lines of several pods merge in arrival order.
let sequence = 0;

export interface LogEntry {
  readonly seq: number;
  readonly line: string;
}

export class LogBuffer {
  private readonly lines: LogEntry[] = [];
  private readonly followers = new Set<(line: string) => void>();

  constructor(private readonly capacity = 10_000) {}

  push(line: string): void {
    this.lines.push({ seq: ++sequence, line });
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    for (const f of this.followers) f(line);
  }

  tail(n?: number): string[] {
    return this.entries(n).map((e) => e.line);
  }

  /** The last `n` entries (all without `n`), oldest first. */
  entries(n?: number): LogEntry[] {
    return n === undefined || n >= this.lines.length ? [...this.lines] : this.lines.slice(this.lines.length - n);
  }

  follow(fn: (line: string) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}

/** kubectl's `logs --prefix` form: "[pod/NAME/istio-proxy] ". */
export function podPrefix(pod: string): string {
  return `[pod/${pod}/istio-proxy] `;
}
