// A proxy's recent output lines (what `tollgate logs` shows), bounded, with followers for `logs -f`. A ring:
// adding a line costs the same however full the buffer is.
export class LogBuffer {
  private readonly ring: (string | undefined)[];
  /** Where the next line goes. */
  private next = 0;
  private size = 0;
  private readonly followers = new Set<(line: string) => void>();

  constructor(private readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`log buffer capacity ${capacity}: expected >= 1`);
    this.ring = new Array<string | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(line: string): void {
    this.ring[this.next] = line;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.size < this.capacity) this.size += 1;
    if (this.followers.size > 0) for (const f of this.followers) f(line);
  }

  /** The last `n` lines (all of them without `n`), oldest first. */
  tail(n?: number): string[] {
    const count = n === undefined ? this.size : Math.max(0, Math.min(n, this.size));
    const out = new Array<string>(count);
    let at = (this.next - count + this.capacity) % this.capacity;
    for (let i = 0; i < count; i++) {
      out[i] = this.ring[at]!;
      at = at + 1 === this.capacity ? 0 : at + 1;
    }
    return out;
  }

  follow(fn: (line: string) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}
