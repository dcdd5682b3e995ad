import { isIP } from 'node:net';

/** Bind upstream connections to the pod address when it can reach the target's address family. */
export function localAddressFor(nodeIp: string, targetIp: string): string | undefined {
  // A proxy has one node address: its family is worked out once, not per request.
  if (nodeIp !== lastNode.ip) lastNode = { ip: nodeIp, family: isIP(nodeIp) };
  const family = lastNode.family;
  if (family === 0 || nodeIp === '0.0.0.0' || nodeIp === '::') return undefined;
  return family === isIP(targetIp) ? nodeIp : undefined;
}

let lastNode = { ip: '', family: 0 };
