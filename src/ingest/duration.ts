const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses Go-style durations as Istio accepts them ("3s", "100ms", "1m", "1.5s", "1h30m") into milliseconds.
 * Returns an error message instead of throwing, so the decoder can attach it to the field's line.
 */
export function parseDuration(text: string): { ms: number } | { error: string } {
  const s = text.trim();
  if (s === '') return { error: 'empty duration' };
  if (s === '0') return { ms: 0 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || consumed === 0) {
    return {
      error: `invalid duration "${text}": expected a number with a unit (ms, s, m, h), e.g. "3s", "100ms", "1.5s"`,
    };
  }
  // Istio (pkg/config/validation/agent ValidateDuration) only accepts millisecond precision.
  const rounded = Math.round(total * 1e6) / 1e6;
  if (!Number.isInteger(rounded))
    return { error: `invalid duration "${text}": only durations to ms precision are supported` };
  return { ms: rounded };
}
