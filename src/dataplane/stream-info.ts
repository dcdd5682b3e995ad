// Everything known about one request as it moves through the proxy (Envoy's StreamInfo). It becomes the
// request's access-log record when the stream completes.
import { isIP } from 'node:net';
import {
  formatResponseFlags,
  formatStartTime,
  type AccessLogRecord,
  type ResponseFlag,
} from '../observability/index.js';
import { utf8Text } from './http1/head-writer.js';

export class StreamInfo {
  readonly startMs: number;
  method: string | undefined;
  /** The path as the client sent it (Envoy logs X-ENVOY-ORIGINAL-PATH, i.e. before rewrites). */
  path: string | undefined;
  protocol: string | undefined;
  authority: string | undefined;
  requestId: string | undefined;
  userAgent: string | undefined;
  xForwardedFor: string | undefined;
  routeName: string | undefined;
  /** The connection became a tunnel after a 101: it ends by closing, not by finishing a response. */
  upgraded = false;
  upstreamCluster: string | undefined;
  upstreamHost: string | undefined;
  upstreamLocalAddress: string | undefined;
  downstreamLocalAddress: string | undefined;
  downstreamRemoteAddress: string | undefined;
  /** Envoy's response flags; made for the first one (most requests have none). */
  private flags: Set<ResponseFlag> | undefined;
  details: string | undefined;
  terminationDetails: string | undefined;
  transportFailureReason: string | undefined;
  /** The TLS server name (SNI) the client asked for. */
  requestedServerName: string | undefined;
  responseCode = 0;
  bytesReceived = 0;
  bytesSent = 0;
  upstreamServiceTimeMs: number | undefined;
  /** The request's and the upstream response's header lines, for an access-log format that reads them. */
  requestHeaders: readonly string[] | undefined;
  responseHeaders: readonly string[] | undefined;

  constructor(startMs: number) {
    this.startMs = startMs;
  }

  addFlag(flag: ResponseFlag): void {
    (this.flags ??= new Set()).add(flag);
  }

  hasFlag(flag: ResponseFlag): boolean {
    return this.flags !== undefined && this.flags.has(flag);
  }

  toRecord(endMs: number): AccessLogRecord {
    return {
      start_time: formatStartTime(this.startMs),
      route_name: this.routeName,
      method: this.method,
      path: textOf(this.path),
      protocol: this.protocol,
      response_code: this.responseCode,
      response_flags: formatResponseFlags(this.flags ?? NO_FLAGS),
      response_code_details: this.details,
      connection_termination_details: this.terminationDetails,
      bytes_received: this.bytesReceived,
      bytes_sent: this.bytesSent,
      duration: Math.max(0, Math.round(endMs - this.startMs)),
      upstream_service_time: this.upstreamServiceTimeMs === undefined ? undefined : String(this.upstreamServiceTimeMs),
      x_forwarded_for: textOf(this.xForwardedFor),
      user_agent: textOf(this.userAgent),
      request_id: textOf(this.requestId),
      authority: textOf(this.authority),
      upstream_host: this.upstreamHost,
      upstream_cluster: this.upstreamCluster,
      upstream_local_address: this.upstreamLocalAddress,
      downstream_local_address: this.downstreamLocalAddress,
      downstream_remote_address: this.downstreamRemoteAddress,
      requested_server_name: this.requestedServerName,
      upstream_transport_failure_reason: this.transportFailureReason,
    };
  }
}

const NO_FLAGS: ReadonlySet<ResponseFlag> = new Set();

/** A value the client sent, as the access log shows it (utf8Text). */
function textOf(bytes: string | undefined): string | undefined {
  return bytes === undefined ? undefined : utf8Text(bytes);
}

/** A connection's two ends as the access log prints them, and the client's bare IP address. */
export interface ConnectionAddresses {
  readonly local: string | undefined;
  readonly remote: string | undefined;
  /** The client's address, IPv4-mapped IPv6 shown as IPv4 (what X-Forwarded-For gets). */
  readonly remoteIp: string | undefined;
}

const connectionAddresses = new WeakMap<object, ConnectionAddresses>();

/** Worked out once per connection: every request on a keep-alive connection shares them. */
export function addressesOf(socket: {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}): ConnectionAddresses {
  let a = connectionAddresses.get(socket);
  if (a === undefined) {
    a = {
      local: formatAddress(socket.localAddress, socket.localPort),
      remote: formatAddress(socket.remoteAddress, socket.remotePort),
      remoteIp: socket.remoteAddress?.replace(/^::ffff:(?=\d+\.)/, ''),
    };
    // A socket that is not connected yet (or no longer) has no addresses to keep.
    if (socket.remoteAddress !== undefined) connectionAddresses.set(socket, a);
  }
  return a;
}

/** "ip:port", with IPv6 in brackets and IPv4-mapped IPv6 shown as IPv4, as Envoy prints addresses. */
export function formatAddress(ip: string | undefined, port: number | undefined): string | undefined {
  if (!ip || port === undefined) return undefined;
  const v4 = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  return isIP(v4) === 6 ? `[${v4}]:${port}` : `${v4}:${port}`;
}
