// The side-by-side table: medians over rounds, and each target's ratio to the others.
export interface Sample {
  readonly rps50: number;
  readonly cpuUsPerRequest: number;
  readonly p50c1Ms: number;
  readonly p99c1Ms: number;
  readonly p99c50Ms: number;
  readonly errors: number;
}

export interface TargetFigures {
  readonly name: string;
  readonly samples: Sample[];
  rssBytes: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Medians {
  readonly name: string;
  readonly rps50: number;
  readonly cpuUsPerRequest: number;
  readonly p50c1Ms: number;
  readonly p99c1Ms: number;
  readonly p99c50Ms: number;
  readonly rssMiB: number;
  readonly errors: number;
}

export function medians(t: TargetFigures): Medians {
  const m = (f: (s: Sample) => number): number => median(t.samples.map(f));
  return {
    name: t.name,
    rps50: m((s) => s.rps50),
    cpuUsPerRequest: m((s) => s.cpuUsPerRequest),
    p50c1Ms: m((s) => s.p50c1Ms),
    p99c1Ms: m((s) => s.p99c1Ms),
    p99c50Ms: m((s) => s.p99c50Ms),
    rssMiB: t.rssBytes / 2 ** 20,
    errors: t.samples.reduce((a, s) => a + s.errors, 0),
  };
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function table(rows: readonly Medians[]): string {
  const lines = [
    row(['target', 'req/s c50', 'CPU us/req', 'p50 c1 ms', 'p99 c1 ms', 'p99 c50 ms', 'RSS after load', 'errors']),
    row(['---', '--:', '--:', '--:', '--:', '--:', '--:', '--:']),
  ];
  for (const r of rows) {
    lines.push(
      row([
        r.name,
        Math.round(r.rps50).toLocaleString('en-US'),
        r.cpuUsPerRequest.toFixed(0),
        r.p50c1Ms.toFixed(3),
        r.p99c1Ms.toFixed(2),
        r.p99c50Ms.toFixed(2),
        `${r.rssMiB.toFixed(0)} MB`,
        String(r.errors),
      ]),
    );
  }
  return lines.join('\n');
}

/** req/s of each row divided by each column's: how many times the other's throughput. */
export function ratioTable(rows: readonly Medians[]): string {
  const short = rows.map((_, i) => `#${i + 1}`);
  const lines = [row(['req/s ratio (row ÷ column)', ...short]), row(['---', ...short.map(() => '--:')])];
  rows.forEach((r, i) => {
    lines.push(row([`#${i + 1} ${r.name}`, ...rows.map((c) => (r.rps50 / c.rps50).toFixed(2))]));
  });
  return lines.join('\n');
}
