// CONNECT at the sidecar: the request stands in for a connection the workload makes to its authority, which in
// Kubernetes iptables would have redirected to the sidecar. The connection is dispatched as Istio's outbound
// listeners dispatch an intercepted one: by destination port, destination, then (reading the first bytes, never
// decrypting them) TLS SNI or plain text. HTTP inside the tunnel is routed as HTTP; TLS and TCP are proxied as bytes;
// what no chain takes goes to PassthroughCluster (ALLOW_ANY) or BlackHoleCluster (REGISTRY_ONLY).
import { isIP, type Socket } from 'node:net';
import { BLACKHOLE_CLUSTER } from '../../proxy-config/types.js';
import type { CompiledConfig, CompiledListener } from '../compile-config.js';
import { ERROR_CATALOG, ProxyError, type ProxyErrorCode } from '../errors.js';
import type { DownstreamRequest } from '../http1/types.js';
import type { PlaneContext } from '../request-handler.js';
import { formatAddress, StreamInfo } from '../stream-info.js';
import type { CompiledFilterChain, ConnectionFacts } from './filter-chains.js';
import { inspectConnection } from './inspect.js';
import { writeRawReply } from './raw-reply.js';
import { tcpProxy } from './tcp-proxy.js';

type SidecarListener = Extract<CompiledListener, { kind: 'sidecar-outbound' }>;

/** Where a tunnel whose bytes are HTTP goes next: the listener's HTTP server, scoped to the tunnel. */
export type HttpHandoff = (socket: Socket, tunnel: { readonly host: string; readonly port: number }) => void;

export function connectStreamInfo(ctx: PlaneContext, req: DownstreamRequest, socket: Socket): StreamInfo {
  const info = new StreamInfo(ctx.now());
  info.method = 'CONNECT';
  info.protocol = `HTTP/${req.httpVersion}`;
  info.authority = req.url;
  info.userAgent = firstHeader(req.headers['user-agent']);
  info.downstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort);
  info.downstreamRemoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
  return info;
}

export async function handleSidecarConnect(
  ctx: PlaneContext,
  config: CompiledConfig,
  listener: SidecarListener,
  req: DownstreamRequest,
  socket: Socket,
  head: Buffer,
  http: HttpHandoff,
): Promise<void> {
  const info = connectStreamInfo(ctx, req, socket);
  const target = parseConnectAuthority(req.url);
  if (!target) {
    refuse(ctx, config, info, socket, new ProxyError('connect_bad_authority'));
    return;
  }
  const facts: ConnectionFacts = { destinationPort: target.port, destination: target.host };
  const chains = listener.chains;
  // Refused before the tunnel opens when nothing but the default chain could take it and that drops it.
  if (!chains.couldMatch(facts) && dropsEverything(chains.defaultChain)) {
    info.routeName = 'block_all';
    info.upstreamCluster = BLACKHOLE_CLUSTER;
    refuse(ctx, config, info, socket, new ProxyError('connect_refused_by_policy'));
    return;
  }

  let bytes = head;
  let answered = false;
  const established = (): void => {
    if (answered) return;
    answered = true;
    info.responseCode = 200;
    info.details = 'via_upstream';
    socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
  };
  let chosenFacts = facts;
  if (chains.needsInspection(facts)) {
    // The chain depends on the first bytes, which the client sends only once the tunnel is open.
    established();
    const inspected = await inspectConnection(socket, head);
    bytes = inspected.bytes;
    const r = inspected.result;
    if (r.kind === 'closed') {
      socket.destroy();
      info.addFlag('DC');
      info.details = 'downstream_remote_disconnect';
      ctx.completeStream(info, config);
      return;
    }
    if (r.kind === 'tls') info.requestedServerName = r.serverName;
    chosenFacts = {
      ...facts,
      ...(r.kind === 'tls' || r.kind === 'malformed'
        ? { transport: 'tls' }
        : r.kind === 'raw'
          ? { transport: 'raw_buffer' }
          : {}),
      ...(r.kind === 'tls' && r.serverName !== undefined ? { serverName: r.serverName } : {}),
    };
  }
  const chain = chains.select(chosenFacts);
  if (!chain) {
    refuse(ctx, config, info, socket, new ProxyError('filter_chain_not_found'));
    return;
  }
  switch (chain.filter.kind) {
    case 'http':
      // Each request inside the tunnel gets its own access-log line; the tunnel itself is transport.
      established();
      if (bytes.length > 0) socket.unshift(bytes);
      http(socket, target);
      socket.resume();
      return;
    case 'tcp-proxy':
      await tcpProxy(
        {
          config,
          filter: chain.filter,
          downstream: socket,
          buffered: bytes,
          info,
          original: target,
          serverName: chosenFacts.serverName,
          ...(answered ? {} : { answer: { connected: established, refused: (err) => replyOnly(info, socket, err) } }),
        },
        ctx,
      );
      return;
  }
}

/** No chain, or a chain whose every cluster is BlackHoleCluster: the connection can only be dropped. */
function dropsEverything(chain: CompiledFilterChain | undefined): boolean {
  if (!chain) return true;
  return chain.filter.kind === 'tcp-proxy' && chain.filter.clusterNames.every((c) => c === BLACKHOLE_CLUSTER);
}

/** "host:port", "[v6]:port": the authority-form target of a CONNECT (RFC 9110 §9.3.6). */
export function parseConnectAuthority(authority: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0 || authority[close + 1] !== ':') return undefined;
    host = authority.slice(1, close);
    if (isIP(host) !== 6) return undefined;
    portText = authority.slice(close + 2);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon <= 0 || authority.indexOf(':') !== colon) return undefined;
    host = authority.slice(0, colon).toLowerCase();
    portText = authority.slice(colon + 1);
    if (
      isIP(host) === 0 &&
      !/^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/.test(host)
    ) {
      return undefined;
    }
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { host: host.replace(/\.$/, ''), port };
}

/** An HTTP answer instead of the tunnel, logged; for status 0 the connection is just closed. */
function refuse(ctx: PlaneContext, config: CompiledConfig, info: StreamInfo, socket: Socket, err: ProxyError): void {
  const spec = err.spec;
  if (spec.flag) info.addFlag(spec.flag);
  info.details = spec.details;
  replyOnly(info, socket, err);
  ctx.completeStream(info, config);
}

function replyOnly(info: StreamInfo, socket: Socket, err: ProxyError): void {
  const spec = ERROR_CATALOG[err.code as ProxyErrorCode];
  if (spec.status === 0 || info.responseCode === 200) {
    socket.destroy();
    return;
  }
  info.responseCode = spec.status;
  info.bytesSent += writeRawReply(socket, spec.status, spec.body);
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
