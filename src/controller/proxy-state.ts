// What the controller knows of one connected proxy: its identity and stream, what it was sent and acknowledged,
// and whether it is an endpoint of its Services (ready) or on its way out (draining).
import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';
import type { IssuedIdentity } from './mesh-ca.js';

export interface ProxyStream {
  /** First on every stream: the session that the proxy's ACKs must carry. */
  open(session: string): void;
  send(version: string, config: ProxyConfig): void;
  close(): void;
}

export interface ProxyState {
  node: NodeIdentity;
  stream: ProxyStream;
  session: string;
  connectedAt: number;
  /** The public key the proxy made for its mesh identity, and the certificate last issued for it. */
  publicKey?: string;
  identity?: IssuedIdentity;
  sent?: string;
  acked?: string;
  nack?: { version: string; error: string };
  /**
   * An endpoint of its Services, as a pod that passed its readiness probe: it has applied a config (or held one
   * when it connected, after a controller restart) and is not draining.
   */
  ready: boolean;
  /** It asked to leave: no longer an endpoint, still pushed to while it finishes what it serves. */
  draining: boolean;
  /** Called on this proxy's every ACK, NACK and disconnect. */
  readonly watchers: Set<() => void>;
}

/** Whether the proxy has answered (ACK or NACK) `version` or a later one. */
export function answered(state: ProxyState, version: string): boolean {
  const v = Number(version);
  return (
    (state.acked !== undefined && Number(state.acked) >= v) ||
    (state.nack !== undefined && Number(state.nack.version) >= v)
  );
}

/**
 * Resolves true once the proxy has answered `version`, false when it disconnects (`gone` says so) or does not
 * answer within `timeoutMs`.
 */
export function whenAnswered(
  state: ProxyState,
  version: string,
  timeoutMs: number,
  gone: () => boolean,
): Promise<boolean> {
  if (answered(state, version)) return Promise.resolve(true);
  if (gone()) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (result: boolean): void => {
      clearTimeout(timer);
      state.watchers.delete(check);
      resolve(result);
    };
    const check = (): void => {
      if (answered(state, version)) finish(true);
      else if (gone()) finish(false);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    state.watchers.add(check);
  });
}
