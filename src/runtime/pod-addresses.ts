// Pod addresses for local mode: each proxy gets its own loopback address (127.0.x.y on Linux, where the whole
// 127.0.0.0/8 is routed to lo), so listeners don't collide and the egress gateway sees the workload's own address.
import net from 'node:net';

export class PodAddressPool {
  private readonly base: number;
  private readonly size: number;
  private readonly byKey = new Map<string, string>();
  private readonly inUse = new Set<string>();

  /** `cidr` like "127.0.100.0/24"; must lie in 127.0.0.0/8. The network and broadcast addresses are skipped. */
  constructor(cidr: string) {
    ({ base: this.base, size: this.size } = parsePodCidr(cidr));
  }

  /** How many addresses the range hands out (network, broadcast and 127.0.0.1 excluded). */
  get capacity(): number {
    const hasLocalhost = this.base < LOCALHOST && LOCALHOST < this.base + this.size - 1;
    return this.size - 2 - (hasLocalhost ? 1 : 0);
  }

  /** The same key keeps its address while it is held; undefined when none is left. */
  tryAcquire(key: string): string | undefined {
    return this.take(key, 1, 1);
  }

  /** The same key keeps its address while it is held. */
  acquire(key: string): string {
    const ip = this.tryAcquire(key);
    if (ip === undefined) throw new Error('no pod address left in --pod-cidr');
    return ip;
  }

  /** Like acquire, from the top of the range down: for addresses that are not pods (stand-in sites). */
  acquireFromTop(key: string): string {
    const ip = this.take(key, this.size - 2, -1);
    if (ip === undefined) throw new Error('no address left in --pod-cidr');
    return ip;
  }

  private take(key: string, first: number, step: 1 | -1): string | undefined {
    const held = this.byKey.get(key);
    if (held) return held;
    for (let i = first; i >= 1 && i < this.size - 1; i += step) {
      const candidate = toIp(this.base + i);
      if (candidate === '127.0.0.1' || this.inUse.has(candidate)) continue;
      this.byKey.set(key, candidate);
      this.inUse.add(candidate);
      return candidate;
    }
    return undefined;
  }

  release(key: string): void {
    const held = this.byKey.get(key);
    if (!held) return;
    this.byKey.delete(key);
    this.inUse.delete(held);
  }
}

/** "127.0.100.0/24" -> its first address as a number and its size; only loopback ranges are pod ranges. */
export function parsePodCidr(cidr: string): { base: number; size: number } {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!match || !net.isIPv4(match[1]!))
    throw new Error(`--pod-cidr ${cidr}: expected an IPv4 CIDR such as 127.0.100.0/24`);
  const bits = Number(match[2]);
  if (bits < 8 || bits > 30) throw new Error(`--pod-cidr ${cidr}: prefix length must be between 8 and 30`);
  const ip = toInt(match[1]!);
  if (ip >>> 24 !== 127) throw new Error(`--pod-cidr ${cidr}: pod addresses must be loopback addresses (127.0.0.0/8)`);
  const mask = (~0 << (32 - bits)) >>> 0;
  return { base: (ip & mask) >>> 0, size: 2 ** (32 - bits) };
}

const LOCALHOST = toInt('127.0.0.1');

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

export function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
