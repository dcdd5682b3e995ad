// Where a command's output goes: stdout for results, stderr for errors and notes (tests pass their own).
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** "1 error", "2 errors", "0 infos": a count with its noun, plural unless one. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Columns padded to the widest cell, three spaces apart, as kubectl prints them. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join(''))
    .join('\n');
}
