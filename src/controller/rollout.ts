// How a new snapshot reaches the proxies, in an order that fails no request the old and the new configuration
// both allow (translation/transition.ts): gateways get the union of both first, then sidecars get the new config,
// then gateways the new one; each step waits for the ACKs its successor depends on. Rollouts run one at a time;
// snapshots that arrive meanwhile are coalesced into the next one, whose "old" is the last snapshot pushed.
import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';
import type { Snapshot } from '../snapshot/index.js';
import { transitionConfig } from '../translation/index.js';
import { whenAnswered, type ProxyState } from './proxy-state.js';

export interface RolloutHost {
  /** The proxies connected now. */
  connected(): ProxyState[];
  /** Whether the proxy is still connected on the stream of this state. */
  isConnected(state: ProxyState): boolean;
  /** Translation of the snapshot for this proxy; undefined when translation failed (reported by the host). */
  translate(node: NodeIdentity, snapshot: Snapshot): ProxyConfig | undefined;
  send(state: ProxyState, version: string, config: ProxyConfig): void;
  /** True while no configuration may be served (a start with errors and no last good record). */
  withheld(): boolean;
  warn(message: string): void;
}

/** How long a step waits for a proxy's ACK before going on without it (a proxy that hangs slows, never stops, a push). */
export const ACK_WAIT_MS = 5_000;

/** The version a snapshot's transition step carries: between the previous snapshot's and its own. */
export function transitionVersion(version: string): string {
  return String(Number(version) - 1);
}

export class Rollout {
  private served: Snapshot | undefined;
  private next: Snapshot | undefined;
  private running = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly host: RolloutHost,
    private readonly ackWaitMs = ACK_WAIT_MS,
  ) {}

  /** The snapshot every connected proxy was last pushed (all steps sent; the last step's ACKs may be on their way). */
  get servedSnapshot(): Snapshot | undefined {
    return this.served;
  }

  schedule(snapshot: Snapshot): void {
    this.next = snapshot;
    if (!this.running) void this.run();
  }

  /** Resolves once a snapshot of version `version` or later has been pushed to every proxy, or after `timeoutMs`. */
  whenServed(version: string, timeoutMs: number): Promise<boolean> {
    const reached = (): boolean => this.served !== undefined && Number(this.served.version) >= Number(version);
    if (reached()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!reached()) return;
        finish(true);
      };
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  /**
   * Sends the snapshot in force to every connected proxy that has not had it: a proxy that connected since it was
   * rolled out. At once when no rollout runs; otherwise each rollout ends with this, for those that joined during it.
   */
  catchUp(): void {
    if (this.running) return;
    const served = this.served;
    if (!served || this.host.withheld()) return;
    for (const state of this.host.connected()) {
      if (state.sent !== undefined && Number(state.sent) >= Number(served.version)) continue;
      const config = this.host.translate(state.node, served);
      if (config) this.host.send(state, served.version, config);
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.next) {
        const snapshot = this.next;
        this.next = undefined;
        if (this.host.withheld()) continue;
        await this.rollOut(this.served, snapshot);
        this.served = snapshot;
        for (const check of [...this.waiters]) check();
      }
      this.running = false;
      this.catchUp();
    } catch (err) {
      this.host.warn(`push failed: ${err instanceof Error ? err.stack : String(err)}`);
    } finally {
      this.running = false;
    }
  }

  private async rollOut(previous: Snapshot | undefined, snapshot: Snapshot): Promise<void> {
    const proxies = this.host.connected();
    const gateways = proxies.filter((p) => p.node.type === 'router');
    const sidecars = proxies.filter((p) => p.node.type === 'sidecar');
    if (previous && gateways.length > 0 && sidecars.length > 0) {
      const version = transitionVersion(snapshot.version);
      await this.step(gateways, version, (node) => {
        const older = this.host.translate(node, previous);
        const newer = this.host.translate(node, snapshot);
        return older && newer ? transitionConfig(older, newer, version) : newer;
      });
    }
    // The gateways forget what only the old configuration had once every sidecar has stopped sending it there.
    await this.step(sidecars, snapshot.version, (node) => this.host.translate(node, snapshot), gateways.length > 0);
    await this.step(gateways, snapshot.version, (node) => this.host.translate(node, snapshot), false);
  }

  /**
   * Pushes each proxy its config; with `wait`, then waits for all of them to answer (or leave, or time out). Pushes
   * on one stream are applied in order, so the last step needs no wait before the next rollout.
   */
  private async step(
    proxies: readonly ProxyState[],
    version: string,
    configOf: (node: NodeIdentity) => ProxyConfig | undefined,
    wait = true,
  ): Promise<void> {
    const waits: Promise<boolean>[] = [];
    for (const state of proxies) {
      if (!this.host.isConnected(state)) continue;
      const config = configOf(state.node);
      if (!config) continue;
      this.host.send(state, version, config);
      if (!wait) continue;
      waits.push(
        whenAnswered(state, version, this.ackWaitMs, () => !this.host.isConnected(state)).then((ok) => {
          if (!ok && this.host.isConnected(state))
            this.host.warn(
              `${state.node.id} did not acknowledge config ${version} within ${this.ackWaitMs} ms; pushing on`,
            );
          return ok;
        }),
      );
    }
    await Promise.all(waits);
  }
}
