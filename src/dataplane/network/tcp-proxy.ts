// Envoy's tcp_proxy: a connection's bytes to one endpoint of a cluster and back, with one access-log line when both
// sides are closed. Used for TLS passed through by SNI, TCP routes, PassthroughCluster / BlackHoleCluster, and the
// tunnels a CONNECT opens.
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { BLACKHOLE_CLUSTER } from '../../proxy-config/types.js';
import { resolveTargets, type OriginalDestination } from '../cluster-endpoints.js';
import type { Target } from '../cluster-lb.js';
import type { CompiledCluster } from '../compile-clusters.js';
import type { CompiledConfig } from '../compile-config.js';
import { guardTargets } from '../destination-guard.js';
import { ProxyError } from '../errors.js';
import { localAddressFor } from '../local-address.js';
import type { PlaneContext } from '../request-handler.js';
import { formatAddress, type StreamInfo } from '../stream-info.js';
import type { CompiledNetworkFilter } from './filter-chains.js';
import { transportFailureReason } from './tls-failure.js';

/** Envoy's tcp_proxy idle_timeout as Istio leaves it: a tunnel with no bytes either way for an hour is closed. */
export const TCP_IDLE_TIMEOUT_MS = 60 * 60 * 1000;

export interface TcpProxyRequest {
  readonly config: CompiledConfig;
  readonly filter: Extract<CompiledNetworkFilter, { kind: 'tcp-proxy' }>;
  /** The client's connection (a TLS socket when the chain terminated TLS). */
  readonly downstream: Socket;
  /** Bytes already read from the client (the inspected ClientHello): sent upstream first. */
  readonly buffered: Buffer;
  readonly info: StreamInfo;
  /** What ORIGINAL_DST clusters dial: the CONNECT authority, or the listener's own address and port. */
  readonly original: OriginalDestination;
  /** The server name to originate TLS with when the cluster says none: the SNI the client sent, if any. */
  readonly serverName: string | undefined;
  /**
   * Set while the client still waits for an answer (a CONNECT not yet answered): called once the upstream is
   * connected, or with the failure, which the caller answers. Unset: failures close the client's connection.
   */
  readonly answer?: {
    connected(): void;
    refused(err: ProxyError): void;
  };
}

/** Resolves when both sides are closed and the access-log line is written. Never rejects. */
export async function tcpProxy(r: TcpProxyRequest, ctx: PlaneContext): Promise<void> {
  const { info, downstream } = r;
  let upstream: Socket | undefined;
  let release = (): void => {};
  try {
    const weighted = r.filter.pickCluster();
    const cluster = r.config.clusters.get(weighted.cluster);
    info.upstreamCluster = weighted.cluster;
    if (!cluster) throw new ProxyError('cluster_not_found', `cluster ${weighted.cluster} is not configured`);
    if (!cluster.breaker.tryAcquire()) throw new ProxyError('upstream_overflow', `cluster ${cluster.name} is full`);
    release = () => cluster.breaker.release();
    const target = await pickTarget(cluster, r.original, ctx, info);
    upstream = await connect(cluster, target, r, ctx);
  } catch (err) {
    release();
    fail(r, ctx, err);
    return;
  }
  if (downstream.destroyed) {
    upstream.destroy();
    release();
    info.addFlag('DC');
    ctx.completeStream(info, r.config);
    return;
  }
  r.answer?.connected();
  await pipeBoth(downstream, upstream, r.buffered, info);
  release();
  ctx.completeStream(info, r.config);
}

async function pickTarget(
  cluster: CompiledCluster,
  original: OriginalDestination,
  ctx: PlaneContext,
  info: StreamInfo,
): Promise<Target> {
  const resolved = await resolveTargets(cluster, original, ctx);
  if (resolved.length === 0) {
    throw new ProxyError(
      'no_healthy_upstream',
      cluster.name === BLACKHOLE_CLUSTER ? 'BlackHoleCluster' : `cluster ${cluster.name} has no endpoints`,
    );
  }
  const targets = guardTargets(resolved, ctx, original, info);
  const healthy = cluster.outlier ? cluster.outlier.healthy(targets) : targets;
  if (healthy.length === 0) throw new ProxyError('no_healthy_upstream', `every endpoint of ${cluster.name} is ejected`);
  const target = cluster.picker.pick(healthy);
  info.upstreamHost = formatAddress(target.ip, target.port);
  return target;
}

/** A connected (and, for TLS clusters, handshaken) upstream socket; rejects with a ProxyError. */
function connect(cluster: CompiledCluster, target: Target, r: TcpProxyRequest, ctx: PlaneContext): Promise<Socket> {
  const tlsConfig = cluster.tls;
  if (tlsConfig && !tlsConfig.ok) {
    r.info.transportFailureReason = tlsConfig.reason;
    return Promise.reject(new ProxyError('upstream_tls_failure', tlsConfig.reason));
  }
  return new Promise<Socket>((resolve, reject) => {
    const localAddress = localAddressFor(ctx.nodeIp, target.family);
    const socket = net.connect({
      host: target.ip,
      port: target.port,
      allowHalfOpen: true,
      ...(localAddress ? { localAddress } : {}),
    });
    socket.on('error', () => {});
    let settled = false;
    const settle = (err: ProxyError | undefined, s?: Socket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        socket.destroy();
        cluster.outlier?.report(target, { kind: 'connect-failure' });
        reject(err);
      } else resolve(s!);
    };
    const timer = setTimeout(
      () => settle(new ProxyError('upstream_connect_timeout', `connect to ${target.ip}:${target.port} timed out`)),
      cluster.connectTimeoutMs,
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      settle(new ProxyError('upstream_connection_failure', `${target.ip}:${target.port}: ${err.code ?? err.message}`)),
    );
    socket.once('connect', () => {
      r.info.upstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort);
      if (!tlsConfig) {
        settle(undefined, socket);
        return;
      }
      const servername = tlsConfig.sni ?? r.serverName ?? cluster.metadata.serviceName;
      const secure: TLSSocket = tls.connect({
        socket,
        servername,
        secureContext: tlsConfig.secureContext,
        rejectUnauthorized: tlsConfig.rejectUnauthorized,
        checkServerIdentity: (_host, peer) => tlsConfig.checkServerIdentity(servername, peer),
      });
      secure.on('error', () => {});
      secure.once('error', (err) => {
        r.info.transportFailureReason = transportFailureReason(err);
        settle(new ProxyError('upstream_tls_failure', r.info.transportFailureReason));
      });
      secure.once('secureConnect', () => settle(undefined, secure));
    });
  });
}

/** Failure before any byte moved: answered when the client still waits, else its connection is closed. */
function fail(r: TcpProxyRequest, ctx: PlaneContext, err: unknown): void {
  const pe = err instanceof ProxyError ? err : new ProxyError('internal_error', String(err), { cause: err });
  if (pe.code === 'internal_error') ctx.warn(`tcp proxy: ${(err as Error)?.stack ?? String(err)}`);
  const spec = pe.spec;
  if (spec.flag) r.info.addFlag(spec.flag);
  r.info.details = spec.details;
  if (r.answer) r.answer.refused(pe);
  else r.downstream.destroy();
  ctx.completeStream(r.info, r.config);
}

/**
 * Bytes both ways until both sides are closed. A FIN from one side is passed on (half-close), as Envoy does; a
 * reset of either side resets the other. Idle for TCP_IDLE_TIMEOUT_MS: both are closed.
 */
function pipeBoth(client: Socket, upstream: Socket, buffered: Buffer, info: StreamInfo): Promise<void> {
  return new Promise<void>((resolve) => {
    let open = 2;
    const closed = (): void => {
      if (--open === 0) resolve();
    };
    if (buffered.length > 0) {
      info.bytesReceived += buffered.length;
      upstream.write(buffered);
    }
    client.on('data', (chunk: Buffer) => (info.bytesReceived += chunk.length));
    upstream.on('data', (chunk: Buffer) => (info.bytesSent += chunk.length));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => {
      info.addFlag('UC');
      client.destroy();
    });
    // Fully closed on one side: flush what is left towards it on the other, then close that one too.
    client.once('close', () => {
      upstream.end(() => upstream.destroy());
      closed();
    });
    upstream.once('close', () => {
      client.end(() => client.destroy());
      closed();
    });
    const idle = (): void => {
      info.terminationDetails = 'idle_timeout';
      client.destroy();
      upstream.destroy();
    };
    client.setTimeout(TCP_IDLE_TIMEOUT_MS, idle);
    upstream.setTimeout(TCP_IDLE_TIMEOUT_MS, idle);
    upstream.pipe(client);
    client.pipe(upstream);
    client.resume();
  });
}
