// Request mirroring (Envoy's request_mirror_policies): a fire-and-forget copy of the request to the mirror
// cluster. Nothing here can touch the client's response: the copy is sent on its own connection, its response is
// drained and dropped, and its failures only count.
import type { OutgoingHttpHeaders } from 'node:http';
import { resolveTargets, type EndpointDeps, type OriginalDestination } from './cluster-endpoints.js';
import type { CompiledConfig } from './compile-config.js';
import type { CompiledMirror } from './compile-routes.js';
import { localAddressFor } from './local-address.js';
import { splitAuthority } from './request-view.js';
import { attemptTlsFor, tlsExchangeOptions } from './upstream.js';
import type { UpstreamPools } from './upstream-pools.js';

/** Bodies up to this size are buffered and mirrored; a larger request is not mirrored at all. */
export const MIRROR_BODY_LIMIT = 64 * 1024;
/** A mirror request that takes longer is abandoned (Envoy bounds it by the route timeout; Istio's is off). */
export const MIRROR_TIMEOUT_MS = 30_000;

/** Counters of the mirroring side path: failures are counted here and never reach the access log. */
export class MirrorCounters {
  sent = 0;
  failed = 0;
  /** Not mirrored: body too large or never read completely. */
  skipped = 0;
}

export interface MirrorDeps extends EndpointDeps {
  readonly pools: UpstreamPools;
  readonly nodeIp: string;
  readonly mirrors: MirrorCounters;
}

export interface MirrorRequest {
  readonly mirror: CompiledMirror;
  readonly config: CompiledConfig;
  readonly method: string;
  readonly path: string;
  /** The headers the main request goes upstream with; copied, never modified. */
  readonly headers: OutgoingHttpHeaders;
  readonly original: OriginalDestination;
  readonly hasBody: boolean;
  /** Declared Content-Length, when there is one: a larger body is not buffered at all. */
  readonly contentLength: number | undefined;
}

/** Fed with each body chunk as the main request reads it; `end` once the body is complete. */
export interface MirrorTap {
  feed(chunk: Buffer): void;
  end(): void;
}

const NOOP_TAP: MirrorTap = { feed() {}, end() {} };

/** Envoy's shadow host: "foo.com" -> "foo.com-shadow", "foo.com:8080" -> "foo.com-shadow:8080". */
export function shadowHost(authority: string): string {
  const { host, port } = splitAuthority(authority);
  const name = authority.startsWith('[') ? host : authority.slice(0, host.length);
  return port === undefined ? `${name}-shadow` : `${name}-shadow:${port}`;
}

/**
 * Starts mirroring one request when the route's percentage draws it. Without a body the copy goes at once; with
 * one it goes when the body is complete, if it stayed within MIRROR_BODY_LIMIT.
 */
export function startMirror(m: MirrorRequest, deps: MirrorDeps): MirrorTap {
  if (!m.mirror.fires()) return NOOP_TAP;
  if (!m.hasBody) {
    void send(m, deps, undefined);
    return NOOP_TAP;
  }
  if (m.contentLength !== undefined && m.contentLength > MIRROR_BODY_LIMIT) {
    deps.mirrors.skipped++;
    return NOOP_TAP;
  }
  let chunks: Buffer[] | undefined = [];
  let size = 0;
  return {
    feed(chunk) {
      if (!chunks) return;
      size += chunk.length;
      if (size > MIRROR_BODY_LIMIT) {
        chunks = undefined;
        deps.mirrors.skipped++;
      } else chunks.push(chunk);
    },
    end() {
      if (!chunks) return;
      const body = Buffer.concat(chunks);
      chunks = undefined;
      void send(m, deps, body);
    },
  };
}

async function send(m: MirrorRequest, deps: MirrorDeps, body: Buffer | undefined): Promise<void> {
  const failed = (): void => {
    deps.mirrors.failed++;
  };
  try {
    const cluster = m.config.clusters.get(m.mirror.cluster);
    if (!cluster?.breaker.tryAcquire()) return failed();
    try {
      const all = await resolveTargets(cluster, m.original, deps);
      const targets = cluster.outlier ? cluster.outlier.healthy(all) : all;
      if (targets.length === 0) return failed();
      const t = cluster.picker.pick(targets);
      const headers: OutgoingHttpHeaders = { ...m.headers };
      if (typeof headers.host === 'string') headers.host = shadowHost(headers.host);
      if (body) headers['content-length'] = String(body.length);
      const local = localAddressFor(deps.nodeIp, t.family);
      const tls = attemptTlsFor(cluster, typeof headers.host === 'string' ? headers.host : undefined);
      await new Promise<void>((resolve) => {
        let over = false;
        const done = (sent: boolean): void => {
          if (over) return;
          over = true;
          clearTimeout(timer);
          if (sent) deps.mirrors.sent++;
          else failed();
          resolve();
        };
        const exchange = deps.pools.get(cluster).exchange(
          {
            ip: t.ip,
            port: t.port,
            localAddress: local,
            method: m.method,
            path: m.path,
            headers,
            hasBody: body !== undefined,
            ...tlsExchangeOptions(tls),
          },
          {
            onSocket() {},
            onConnected() {
              if (!body) return;
              exchange.write(body);
              exchange.end();
            },
            onResponse(res) {
              res.onAborted(() => done(false));
              res.onEnd(() => done(true));
              res.onData(() => {});
            },
            onUpgrade(_res, socket) {
              socket.destroy();
              done(true);
            },
            onError: () => done(false),
          },
        );
        const timer = setTimeout(() => {
          exchange.destroy();
          done(false);
        }, MIRROR_TIMEOUT_MS);
      });
    } finally {
      cluster.breaker.release();
    }
  } catch {
    failed();
  }
}
