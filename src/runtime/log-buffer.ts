// A proxy's recent output lines (what `tollgate logs` shows), bounded, with followers for `logs -f`.
export class LogBuffer {
  private readonly lines: string[] = [];
  private readonly followers = new Set<(line: string) => void>();

  constructor(private readonly capacity = 10_000) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    for (const f of this.followers) f(line);
  }

  tail(n?: number): string[] {
    return n === undefined || n >= this.lines.length ? [...this.lines] : this.lines.slice(this.lines.length - n);
  }

  follow(fn: (line: string) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}
