// The config-distribution protocol between the controller and its proxies, over plain HTTP/1.1:
//
//   POST /v1/discovery          body: DiscoveryRequest (the proxy's identity)
//                               response: a never-ending NDJSON stream of ServerMessage, one per line
//   POST /v1/discovery/ack      body: AckRequest, once per config received (ACK, or NACK with the reason)
//
// Like xDS, every push carries the version of the snapshot it was translated from, and the controller records
// per proxy what it sent and what was acknowledged. A proxy that cannot apply a config NACKs it and keeps its
// last good one; a proxy that loses the controller keeps serving and reconnects.
import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';

export const DISCOVERY_PATH = '/v1/discovery';
export const ACK_PATH = '/v1/discovery/ack';
export const PING_INTERVAL_MS = 10_000;

export interface DiscoveryRequest {
  readonly node: NodeIdentity;
  /** The version the proxy has in force, if any (after a reconnect). */
  readonly currentVersion?: string;
}

export type ServerMessage =
  | { readonly type: 'config'; readonly version: string; readonly config: ProxyConfig }
  | { readonly type: 'ping' };

export interface AckRequest {
  readonly nodeId: string;
  readonly version: string;
  readonly ok: boolean;
  readonly error?: string;
}

/** Splits a byte stream into lines; keeps the partial tail between chunks. */
export class LineSplitter {
  private tail = '';

  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines.filter((l) => l.length > 0);
  }
}
