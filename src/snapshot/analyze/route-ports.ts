import type { Destination } from '../../model/index.js';
import type { RegistryService } from '../registry-types.js';
import type { ScopedMatch } from './rule-scope.js';

/**
 * The service ports a route destination can reach, as translation picks the cluster's port: the destination's
 * port, else the service's only port, else the port of the listener the rule is used on: its matches' ports when
 * each names one, otherwise any port of the service as well.
 */
export function reachedPorts(
  destination: Destination,
  service: RegistryService,
  matches: readonly ScopedMatch[],
): number[] {
  if (destination.port !== undefined) return [destination.port];
  const all = service.ports.map((p) => p.number);
  if (all.length === 1) return all;
  const named = matches.flatMap((m) => (m.port !== undefined ? [m.port] : []));
  return [...new Set(named.length > 0 && named.length === matches.length ? named : [...named, ...all])];
}
