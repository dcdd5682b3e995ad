// A connection to a gateway port whose servers are TLS, HTTPS or TCP: its first bytes choose the filter chain (SNI,
// read without decrypting), which either passes the bytes through to a cluster (PASSTHROUGH), or terminates TLS
// with the server's certificate and then routes HTTP requests or proxies the decrypted bytes.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { CompiledConfig, CompiledListener } from '../compile-config.js';
import { ProxyError } from '../errors.js';
import type { PlaneContext } from '../request-handler.js';
import { formatAddress, StreamInfo } from '../stream-info.js';
import type { CompiledFilterChain, ConnectionFacts } from './filter-chains.js';
import { inspectConnection } from './inspect.js';
import { tcpProxy } from './tcp-proxy.js';

type NetworkListener = Extract<CompiledListener, { kind: 'gateway-network' }>;

/** How long a client may take over its TLS handshake with a terminating chain. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** How a chain that routes HTTP gets the (decrypted) connection: the listener's HTTP server, scoped to the chain. */
export type GatewayHttpHandoff = (
  socket: Socket,
  scope: {
    readonly routeConfigName: string;
    readonly servicePort: number;
    readonly secure: boolean;
    readonly serverName: string | undefined;
  },
) => void;

export async function handleGatewayConnection(
  ctx: PlaneContext,
  config: CompiledConfig,
  listener: NetworkListener,
  socket: Socket,
  http: GatewayHttpHandoff,
): Promise<void> {
  const info = new StreamInfo(ctx.now());
  info.downstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort);
  info.downstreamRemoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
  const chains = listener.chains;
  let facts: ConnectionFacts = {};
  let bytes: Buffer = Buffer.alloc(0);
  if (chains.needsInspection(facts)) {
    const inspected = await inspectConnection(socket, bytes);
    bytes = inspected.bytes;
    const r = inspected.result;
    // A client that connects and leaves without a byte is no request: nothing to log.
    if (r.kind === 'closed' && bytes.length === 0) {
      socket.destroy();
      return;
    }
    if (r.kind === 'tls') {
      info.requestedServerName = r.serverName;
      facts = { transport: 'tls', ...(r.serverName !== undefined ? { serverName: r.serverName } : {}) };
    } else if (r.kind === 'raw') facts = { transport: 'raw_buffer' };
    else if (r.kind === 'malformed') facts = { transport: 'tls' };
  }
  const chain = chains.select(facts);
  if (!chain) {
    close(ctx, config, info, socket, new ProxyError('filter_chain_not_found'));
    return;
  }
  if (chain.tls) {
    terminate(ctx, config, listener, chain, info, socket, bytes, http);
    return;
  }
  dispatch(ctx, config, listener, chain, info, socket, bytes, false, http);
}

function dispatch(
  ctx: PlaneContext,
  config: CompiledConfig,
  listener: NetworkListener,
  chain: CompiledFilterChain,
  info: StreamInfo,
  socket: Socket,
  bytes: Buffer,
  secure: boolean,
  http: GatewayHttpHandoff,
): void {
  switch (chain.filter.kind) {
    case 'http':
      if (bytes.length > 0) socket.unshift(bytes);
      http(socket, {
        routeConfigName: chain.filter.routeConfigName,
        servicePort: listener.servicePort,
        secure,
        serverName: info.requestedServerName,
      });
      socket.resume();
      return;
    case 'tcp-proxy':
      void tcpProxy(
        {
          config,
          filter: chain.filter,
          downstream: socket,
          buffered: bytes,
          info,
          original: { host: info.requestedServerName ?? listener.address, port: listener.servicePort },
          serverName: info.requestedServerName,
        },
        ctx,
      );
      return;
  }
}

/** TLS terminated with the chain's certificate; the peer checked as the server's mode asks; then the filter. */
function terminate(
  ctx: PlaneContext,
  config: CompiledConfig,
  listener: NetworkListener,
  chain: CompiledFilterChain,
  info: StreamInfo,
  socket: Socket,
  bytes: Buffer,
  http: GatewayHttpHandoff,
): void {
  const tls = chain.tls!;
  if (!tls.ok) {
    ctx.warn(`listener ${listener.name} chain ${chain.name}: ${tls.reason}`);
    info.terminationDetails = tls.reason;
    close(ctx, config, info, socket, new ProxyError('downstream_tls_failure'));
    return;
  }
  if (bytes.length > 0) socket.unshift(bytes);
  const secure = new TLSSocket(socket, {
    isServer: true,
    secureContext: tls.secureContext,
    requestCert: tls.requestCert,
    rejectUnauthorized: tls.requireClientCert,
  });
  let done = false;
  const fail = (why: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    info.terminationDetails = `tls_handshake_failed: ${why}`;
    secure.destroy();
    close(ctx, config, info, socket, new ProxyError('downstream_tls_failure'));
  };
  // A client that stalls or leaves mid-handshake must not hold the connection: TLS has no half-open state.
  const timer = setTimeout(() => fail('handshake timed out'), TLS_HANDSHAKE_TIMEOUT_MS);
  timer.unref();
  secure.on('error', (err: Error) => fail(err.message));
  secure.once('end', () => fail('the client closed the connection during the handshake'));
  secure.once('secure', () => {
    if (done) return;
    const problem = tls.verifyPeer(secure.getPeerX509Certificate());
    if (problem) {
      fail(problem);
      return;
    }
    done = true;
    clearTimeout(timer);
    dispatch(ctx, config, listener, chain, info, secure, Buffer.alloc(0), true, http);
  });
}

function close(ctx: PlaneContext, config: CompiledConfig, info: StreamInfo, socket: Socket, err: ProxyError): void {
  const spec = err.spec;
  if (spec.flag) info.addFlag(spec.flag);
  info.details = spec.details;
  socket.destroy();
  ctx.completeStream(info, config);
}
