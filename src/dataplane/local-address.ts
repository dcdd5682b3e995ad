import { isIP } from 'node:net';

/** Bind upstream connections to the pod address when it can reach the target's address family. */
export function localAddressFor(nodeIp: string, targetIp: string): string | undefined {
  const family = isIP(nodeIp);
  if (family === 0 || nodeIp === '0.0.0.0' || nodeIp === '::') return undefined;
  return family === isIP(targetIp) ? nodeIp : undefined;
}
