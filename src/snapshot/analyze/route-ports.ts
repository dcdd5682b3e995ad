import type { Destination } from '../../model/index.js';
import type { RegistryService } from '../registry-types.js';
import type { ScopedMatch } from './rule-scope.js';

/**
 * The service ports a route destination can reach, as translation picks the cluster's port: the destination's
 * port, else the service's only port, else the port of the listener the rule is used on, which is its matches'
 * ports when they name one and otherwise any of `listenerPorts`.
 */
export function destinationPorts(
  destination: Destination,
  service: RegistryService | undefined,
  matches: readonly ScopedMatch[],
  listenerPorts: readonly number[],
): number[] {
  if (destination.port !== undefined) return [destination.port];
  const only = service?.ports.length === 1 ? service.ports[0]?.number : undefined;
  if (only !== undefined) return [only];
  const named = matches.flatMap((m) => (m.port !== undefined ? [m.port] : []));
  return [...new Set(named.length > 0 && named.length === matches.length ? named : [...named, ...listenerPorts])];
}
