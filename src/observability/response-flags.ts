// Envoy's response flags, in the order Envoy prints them (its ResponseFlag enum order), so a request carrying
// several flags renders exactly as Envoy would, e.g. "UF,URX". Meanings: Envoy access-log docs, §8 of the
// egress semantics reference.
export const RESPONSE_FLAGS = [
  'LH', // failed local health check
  'UH', // no healthy upstream
  'UT', // upstream request timeout
  'LR', // local reset
  'UR', // upstream remote reset
  'UF', // upstream connection failure
  'UC', // upstream connection termination
  'UO', // upstream overflow (circuit breaking)
  'NR', // no route configured / no filter chain
  'DI', // delay injected
  'FI', // fault injected
  'RL', // rate limited
  'UAEX', // external authorization denied
  'RLSE', // rate limit service error
  'DC', // downstream connection termination
  'URX', // upstream retry limit exceeded
  'SI', // stream idle timeout
  'IH', // invalid Envoy request headers
  'DPE', // downstream protocol error
  'UMSDR', // upstream max stream duration reached
  'RFCF', // response from cache filter
  'NFCF', // no filter config found
  'DT', // max duration timeout
  'UPE', // upstream protocol error
  'NC', // no cluster found
  'OM', // overload manager
  'DF', // DNS resolution failed
  'DO', // drop overload
] as const;

export type ResponseFlag = (typeof RESPONSE_FLAGS)[number];

/** "-" when none, else the flags comma-separated in Envoy's order (never in insertion order). */
export function formatResponseFlags(flags: ReadonlySet<ResponseFlag>): string {
  if (flags.size === 0) return '-';
  const out: string[] = [];
  for (const f of RESPONSE_FLAGS) if (flags.has(f)) out.push(f);
  return out.join(',');
}
