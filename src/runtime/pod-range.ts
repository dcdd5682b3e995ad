// One pod address range per local mesh. Two `tollgate up` on one machine would otherwise hand out the same
// 127.0.100.x addresses: the second mesh's proxies fail to bind and `exec` quietly reaches the first mesh's
// sidecar. A mesh claims its range by listening on the range's network address (never a pod address), and answers
// there with its controller's URL, so another mesh can say which one holds it. The kernel releases the claim when
// the process ends, however it ends.
import http from 'node:http';
import { parsePodCidr, toIp } from './pod-addresses.js';

export const CLAIM_PORT = 15009;
/** Ranges `up` tries when --pod-cidr is not given: 127.0.100.0/24, then 127.0.101.0/24, ... */
export const DEFAULT_RANGES = Array.from({ length: 100 }, (_, i) => `127.0.${100 + i}.0/24`);

export interface PodRangeClaim {
  readonly cidr: string;
  /** The ranges tried first and found held by other meshes, with their controllers. */
  readonly skipped: readonly { cidr: string; holder: string }[];
  release(): Promise<void>;
}

/**
 * `explicit` (from --pod-cidr) is claimed or refused; otherwise the first free range of `candidates` is taken.
 * `describe` is what this mesh answers to others (its controller URL).
 */
export async function claimPodRange(
  explicit: string | undefined,
  describe: () => string,
  candidates: readonly string[] = DEFAULT_RANGES,
): Promise<PodRangeClaim> {
  const skipped: { cidr: string; holder: string }[] = [];
  for (const cidr of explicit !== undefined ? [explicit] : candidates) {
    const server = http.createServer((_req, res) => {
      const body = JSON.stringify({ controller: describe(), pid: process.pid });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const address = networkAddress(cidr);
    const error = await listen(server, address);
    if (error === undefined) {
      server.unref();
      return {
        cidr,
        skipped,
        release: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      };
    }
    if (error !== 'EADDRINUSE') throw new Error(`cannot claim pod addresses ${cidr} (${address}): ${error}`);
    const holder = await holderOf(address);
    if (explicit !== undefined) {
      throw new Error(
        `pod addresses ${cidr} are in use by another tollgate mesh (${holder}); ` +
          'leave out --pod-cidr to take the first free range, or give this mesh its own, e.g. --pod-cidr 127.0.101.0/24',
      );
    }
    skipped.push({ cidr, holder });
  }
  throw new Error('every default pod range (127.0.100.0/24 to 127.0.199.0/24) is in use; choose one with --pod-cidr');
}

function networkAddress(cidr: string): string {
  return toIp(parsePodCidr(cidr).base);
}

function listen(server: http.Server, address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen(CLAIM_PORT, address, () => resolve(undefined));
  });
}

/** "controller http://127.0.0.1:15010, pid 1234", or what is known when the holder does not answer. */
async function holderOf(address: string): Promise<string> {
  try {
    const res = await fetch(`http://${address}:${CLAIM_PORT}/`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { controller?: unknown; pid?: unknown };
    return `controller ${String(body.controller)}, pid ${String(body.pid)}`;
  } catch {
    return `something listens on ${address}:${CLAIM_PORT}`;
  }
}
