// One proxy process's worth of work: a data plane fed by a discovery stream. Used by `tollgate up` for every
// sidecar and gateway it runs, and by `tollgate proxy` on its own.
import fs from 'node:fs';
import { type ApplyResult, DataPlane, type ConnectToRule, type HostResolver } from '../dataplane/index.js';
import { DiscoveryClient, type DiscoveryEvent } from '../distribution/index.js';
import type { NodeIdentity, ProxyConfig } from '../proxy-config/types.js';
import { generateKeyPair, privateKeyPem } from '../pki/index.js';
import { AccessLogTarget } from './access-log-target.js';
import { BatchedOutput } from './batched-output.js';
import { LineEncoder, LogBuffer } from './log-buffer.js';
import { PROXY_ADMIN_PORT } from './proxy-admin.js';
import { WorkerPlanes } from './worker-planes.js';

/** What the runner needs of the data plane: one in this process, or one per worker. */
interface Plane {
  readonly version: string | undefined;
  apply(config: ProxyConfig): Promise<ApplyResult>;
  close(): Promise<void>;
  drain(graceMs: number): Promise<void>;
  /** Hands on the access-log lines still waiting to be formatted (in-process planes; workers flush on stop). */
  flushAccessLog?(): void;
}

/** Envoy's default drain time as Istio sets it (terminationDrainDuration: 5 s). */
export const DEFAULT_DRAIN_MS = 5_000;
/** How much longer than the drain itself a proxy waits for the controller to confirm it left the endpoints. */
const DRAIN_ACK_MARGIN_MS = 10_000;

export interface ProxyRunnerOptions {
  readonly controller: string;
  /** The proxy join token. */
  readonly token: string;
  readonly node: NodeIdentity;
  readonly resolver: HostResolver;
  readonly connectTo: readonly ConnectToRule[];
  /** CAs trusted beyond the public ones where a cluster names none (local stand-ins'). */
  readonly trustedCas?: readonly string[];
  /** Where lines for "/dev/stdout" go (local mode prefixes them with the proxy's name). */
  readonly stdout: (line: string) => void;
  /**
   * Where batches of "/dev/stdout" lines go instead, newline-terminated, when given: a proxy process writes its
   * access log to its standard output this way, one write per batch.
   */
  readonly stdoutBatch?: (bytes: Buffer) => void;
  /** Proxy lifecycle events for the operator. */
  readonly event: (message: string) => void;
  /**
   * Workers serving the listeners (node:cluster); 1, the default, serves them in this process. Workers build
   * their resolver from `dnsServers` (the system's when empty), as `resolver` cannot cross a process boundary.
   */
  readonly concurrency?: number;
  readonly dnsServers?: readonly string[];
}

/** The controller's API and this proxy's admin port: what the proxy must never relay a request to. */
function controlPlaneOf(controller: string, podIp: string): { host: string; port: number }[] {
  const out = [{ host: podIp, port: PROXY_ADMIN_PORT }];
  try {
    const url = new URL(controller);
    out.push({ host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) });
  } catch {
    // not a URL: the discovery client reports that itself
  }
  return out;
}

export class ProxyRunner {
  readonly logs = new LogBuffer();
  private readonly lineEncoder = new LineEncoder();
  private readonly dataPlane: Plane;
  private readonly client: DiscoveryClient;
  private readonly accessLog = new AccessLogTarget();
  private file: { path: string; stream: fs.WriteStream; out: BatchedOutput } | undefined;
  private readonly stdoutBatch: BatchedOutput | undefined;
  private away = false;

  constructor(private readonly options: ProxyRunnerOptions) {
    // The key of the proxy's mesh identity is made here and never leaves the process; the controller certifies it.
    const identity = generateKeyPair();
    const batch = options.stdoutBatch;
    this.stdoutBatch = batch ? new BatchedOutput(batch) : undefined;
    const identityKey = privateKeyPem(identity.privateKey);
    const controlPlane = controlPlaneOf(options.controller, options.node.ip);
    const trustedCas = options.trustedCas ?? [];
    const concurrency = options.concurrency ?? 1;
    this.dataPlane =
      concurrency > 1
        ? new WorkerPlanes({
            concurrency,
            init: {
              node: options.node,
              dnsServers: options.dnsServers ?? [],
              connectTo: options.connectTo,
              trustedCas,
              identityKey,
              controlPlane,
            },
            onLog: (text) => {
              let at = 0;
              for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', at)) {
                this.writeAccessLog(text.slice(at, nl));
                at = nl + 1;
              }
            },
            onWarning: (message) => options.event(`warning: ${message}`),
          })
        : new DataPlane(options.node, {
            resolver: options.resolver,
            connectTo: options.connectTo,
            onAccessLog: (line) => this.writeAccessLog(line),
            onWarning: (message) => options.event(`warning: ${message}`),
            identityKey,
            controlPlane,
            ...(trustedCas.length > 0 ? { trustedCas } : {}),
          });
    this.client = new DiscoveryClient({
      controller: options.controller,
      token: options.token,
      publicKey: identity.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      node: options.node,
      apply: (config) => this.apply(config),
      currentVersion: () => this.dataPlane.version,
      onEvent: (e) => this.onEvent(e),
    });
  }

  get node(): NodeIdentity {
    return this.options.node;
  }

  get version(): string | undefined {
    return this.dataPlane.version;
  }

  start(): void {
    this.client.start();
  }

  async stop(): Promise<void> {
    this.client.close();
    await this.dataPlane.close();
    this.flushLogs();
    this.file?.stream.end();
  }

  /**
   * Graceful shutdown: leave every Service's endpoints first (the controller answers once the other proxies have
   * acknowledged it, or after its own timeout), then drain the data plane for up to `graceMs`, then stop.
   */
  async drain(graceMs: number): Promise<void> {
    const left = await this.client.drain(graceMs + DRAIN_ACK_MARGIN_MS);
    if (!left) this.options.event('the controller did not confirm that this proxy left the endpoints; draining anyway');
    await this.dataPlane.drain(graceMs);
    this.client.close();
    this.flushLogs();
    this.file?.stream.end();
  }

  /** Writes the access-log lines still waiting in a batch (at stop, and when the process exits). */
  flushLogs(): void {
    this.dataPlane.flushAccessLog?.();
    this.stdoutBatch?.flush();
    this.file?.out.flush();
  }

  private async apply(config: ProxyConfig): Promise<{ ok: true } | { ok: false; error: string }> {
    // Workers that have the config serve, and log, before the others have it: its target counts from now.
    this.accessLog.begin(config.accessLog);
    let ok = false;
    try {
      const result = await this.dataPlane.apply(config);
      ok = result.ok;
      return result;
    } finally {
      this.accessLog.end(ok);
    }
  }

  private writeAccessLog(line: string): void {
    const target = this.accessLog.current;
    if (target === undefined) return;
    if (target.path === '/dev/stdout' || target.path === '/dev/stderr') {
      // Encoded once, copied to both: the memory `tollgate logs` reads and the output batch.
      const length = this.lineEncoder.encode(line);
      this.logs.pushBytes(this.lineEncoder.bytes, length, line);
      if (this.stdoutBatch) this.stdoutBatch.writeBytes(this.lineEncoder.bytes, length);
      else this.options.stdout(line);
      return;
    }
    if (this.file?.path !== target.path) {
      this.file?.out.flush();
      this.file?.stream.end();
      const stream = fs.createWriteStream(target.path, { flags: 'a' });
      stream.on('error', (err) => this.options.event(`warning: access log ${target.path}: ${err.message}`));
      this.file = { path: target.path, stream, out: new BatchedOutput((text) => stream.write(text)) };
    }
    this.file.out.write(line);
  }

  private onEvent(e: DiscoveryEvent): void {
    switch (e.type) {
      case 'connected':
        if (this.away) this.options.event('controller reachable again');
        this.away = false;
        return;
      case 'disconnected':
        // Retries go on quietly; one line when the controller goes away, one when it is back.
        if (this.away) return;
        this.away = true;
        this.options.event(
          `controller unreachable (${e.reason}); serving config ${this.dataPlane.version ?? '(none)'}`,
        );
        return;
      case 'applied':
        return; // the controller's status shows every ACK; only trouble is worth a line here
      case 'rejected':
        this.options.event(`config ${e.version} rejected, keeping ${this.dataPlane.version ?? '(none)'}: ${e.error}`);
        return;
    }
  }
}
