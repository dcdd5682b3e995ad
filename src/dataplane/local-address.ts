import { isIP } from 'node:net';

/**
 * Bind upstream connections to the pod address when it can reach the target's address family (`targetFamily`: 4 or
 * 6, as `isIP` gives it; a target carries its own, worked out once).
 */
export function localAddressFor(nodeIp: string, targetFamily: number): string | undefined {
  // A proxy has one node address: its family is worked out once, not per request.
  if (nodeIp !== lastNode.ip) lastNode = { ip: nodeIp, family: isIP(nodeIp) };
  const family = lastNode.family;
  if (family === 0 || nodeIp === '0.0.0.0' || nodeIp === '::') return undefined;
  return family === targetFamily ? nodeIp : undefined;
}

let lastNode = { ip: '', family: 0 };
