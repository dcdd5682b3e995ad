// Local mode (`tollgate up`): the controller, its admin API, and one in-process proxy per declared sidecar and
// egress gateway, each on its own loopback pod address. Proxies talk to the controller over the same HTTP
// protocol they would use as separate processes, so local mode exercises the real paths.
import type http from 'node:http';
import {
  Controller,
  loadOrCreateTokens,
  pathSegment,
  reportDiagnostics,
  sendJson,
  startAdminServer,
  TokenAuthenticator,
  type AdminServer,
  type Role,
  type SubmittedFile,
} from '../controller/index.js';
import type { ConnectToRule, HostResolver } from '../dataplane/index.js';
import { formatDiagnostic } from '../model/index.js';
import { nodeId, type NodeIdentity } from '../proxy-config/types.js';
import type { ProxyDeclaration, Snapshot } from '../snapshot/index.js';
import { PodAddressPool } from './pod-addresses.js';
import { claimPodRange, type PodRangeClaim } from './pod-range.js';
import { serveLogs } from './proxy-admin.js';
import { ProxyRunner } from './proxy-runner.js';
import { retireStandInTrust, standInCa, standInFiles, startStandIn, type StandInSite } from './stand-in.js';

export interface LocalMeshOptions {
  readonly configDir: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Undefined: the first range no other local mesh holds (see pod-range.ts). */
  readonly podCidr: string | undefined;
  readonly resolver: HostResolver;
  readonly connectTo: readonly ConnectToRule[];
  /** External sites to serve locally (`--stand-in aliyun.com`). */
  readonly standIns: readonly string[];
  /** Files applied once at start (like `tollgate apply`), e.g. the example workload. */
  readonly seeds: readonly SubmittedFile[];
  /** One line of output (no newline). */
  readonly out: (line: string) => void;
}

export class LocalMesh {
  /** Made once the pod range is known: how many proxies fit is part of what the controller checks. */
  private controller!: Controller;
  private pool!: PodAddressPool;
  private claim: PodRangeClaim | undefined;
  private readonly standIns: StandInSite[] = [];
  /** CAs the proxies trust beyond the public ones: the stand-ins', while they run. */
  private trustedCas: readonly string[] = [];
  private connectTo: readonly ConnectToRule[];
  private readonly runners = new Map<string, ProxyRunner>();
  private admin: AdminServer | undefined;
  private tokens: Record<Role, string> | undefined;
  /** Declared proxies with no pod address (each reported once). */
  private readonly unplaced = new Set<string>();
  private reconciling: Promise<void> = Promise.resolve();

  constructor(private readonly options: LocalMeshOptions) {
    this.connectTo = options.connectTo;
  }

  /** The pod address range this mesh holds. */
  get podCidr(): string {
    if (!this.claim) throw new Error('local mesh not started');
    return this.claim.cidr;
  }

  get url(): string {
    if (!this.admin) throw new Error('local mesh not started');
    return this.admin.url;
  }

  async start(): Promise<void> {
    const { out } = this.options;
    this.claim = await claimPodRange(this.options.podCidr, () => this.admin?.url ?? 'starting');
    for (const { cidr, holder } of this.claim.skipped) out(`tollgate | pod addresses ${cidr} are in use (${holder})`);
    out(`tollgate | pod addresses ${this.claim.cidr}`);
    this.pool = new PodAddressPool(this.claim.cidr);
    const ca = this.options.standIns.length > 0 ? standInCa(this.options.configDir) : undefined;
    if (ca) this.trustedCas = [ca.certificatePem];
    for (const host of this.options.standIns) {
      const site = await startStandIn(host, this.pool.acquireFromTop(`stand-in/${host}`), ca!);
      this.standIns.push(site);
      // Explicit --connect-to rules come first: the first matching rule wins, as in curl.
      this.connectTo = [...this.connectTo, ...site.connectTo];
      const ports = site.listeners.map((l) => `${l.protocol} ${l.servicePort} on port ${l.port}`).join(', ');
      out(`tollgate | stand-in for ${site.host} at ${site.address} (${ports})`);
    }
    if (ca) {
      out(
        `tollgate | stand-in certificates come from a local CA (${standInFiles(this.options.configDir).cert}); ` +
          'the proxies and `tollgate exec` trust it while stand-ins run',
      );
    }
    this.controller = new Controller(this.options.configDir, {
      proxyCapacity: { limit: this.pool.capacity - this.standIns.length, setting: `--pod-cidr ${this.claim.cidr}` },
    });
    this.controller.on('warning', (message: string) => out(`tollgate | warning: ${message}`));
    await this.controller.start();
    reportDiagnostics(this.controller, (line) => out(`tollgate | ${line}`));
    // The in-process proxies get the join token directly; the CLI reads the admin token from the config directory.
    const tokens = loadOrCreateTokens(this.options.configDir);
    this.tokens = tokens;
    this.admin = await startAdminServer(this.controller, {
      listen: this.options.listen,
      auth: new TokenAuthenticator(tokens, this.options.configDir),
      extraRoutes: [(req, res, url) => this.logsRoute(req, res, url)],
    });
    this.controller.on('snapshot', (s: Snapshot) => this.scheduleReconcile(s));
    this.scheduleReconcile(this.controller.snapshot);
    if (this.options.seeds.length > 0) {
      const result = await this.controller.apply(this.options.seeds);
      for (const d of result.diagnostics) out(`tollgate | ${formatDiagnostic(d)}`);
      for (const c of result.changes) out(`tollgate | seed ${c.kind} ${c.namespace}/${c.name} ${c.action}`);
    }
    await this.reconciling;
  }

  async stop(): Promise<void> {
    this.controller.removeAllListeners('snapshot');
    await this.reconciling;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    this.controller.stop();
    await this.admin?.close();
    await Promise.all(this.standIns.map((s) => s.close()));
    if (this.standIns.length > 0) retireStandInTrust(this.options.configDir);
    await this.claim?.release();
  }

  private scheduleReconcile(snapshot: Snapshot): void {
    this.reconciling = this.reconciling
      .then(() => this.reconcile(snapshot.proxies))
      .catch((err: unknown) =>
        this.options.out(`tollgate | warning: proxies not reconciled: ${err instanceof Error ? err.message : err}`),
      );
  }

  /** Starts the proxies that are declared and not running; stops those no longer declared or changed. */
  private async reconcile(declared: readonly ProxyDeclaration[]): Promise<void> {
    const wanted = new Map(declared.map((d) => [keyOf(d), d] as const));
    for (const [key, runner] of this.runners) {
      const d = wanted.get(key);
      if (d && sameIdentity(d, runner.node)) continue;
      this.runners.delete(key);
      await runner.stop();
      this.pool.release(key);
      this.options.out(
        `tollgate | ${runner.node.type === 'router' ? 'gateway' : 'sidecar'} ${runner.node.name}.${runner.node.namespace} stopped`,
      );
    }
    for (const key of this.unplaced) if (!wanted.has(key)) this.unplaced.delete(key);
    for (const [key, d] of wanted) {
      if (this.runners.has(key)) continue;
      const ip = this.pool.tryAcquire(key);
      if (ip === undefined) {
        // More proxies than addresses (a directory edited by hand; apply refuses this): run what fits, say the rest.
        if (!this.unplaced.has(key))
          this.options.out(
            `tollgate | ${d.type === 'router' ? 'gateway' : 'sidecar'} ${d.name}.${d.namespace} not started: no pod ` +
              `address left in --pod-cidr ${this.options.podCidr} (${this.pool.capacity} addresses); widen --pod-cidr or remove a Deployment`,
          );
        this.unplaced.add(key);
        continue;
      }
      this.unplaced.delete(key);
      const node: NodeIdentity = {
        id: nodeId(d.type, ip, d.name, d.namespace),
        type: d.type,
        name: d.name,
        namespace: d.namespace,
        ip,
        labels: d.labels,
        serviceAccount: d.serviceAccount,
      };
      const prefix = `${d.name}.${d.namespace}`;
      const runner = new ProxyRunner({
        controller: this.url,
        token: this.tokens!.proxy,
        node,
        resolver: this.options.resolver,
        connectTo: this.connectTo,
        trustedCas: this.trustedCas,
        stdout: (line) => this.options.out(`${prefix} | ${line}`),
        event: (message) => this.options.out(`tollgate | ${prefix}: ${message}`),
      });
      this.runners.set(key, runner);
      runner.start();
      this.options.out(`tollgate | ${d.type === 'router' ? 'gateway' : 'sidecar'} ${prefix} started at ${ip}`);
    }
  }

  /** GET /v1/logs/:namespace/:name[?follow=1&tail=N]: a proxy's access-log lines, as text. */
  private logsRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
    const match = /^\/v1\/logs\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return false;
    const namespace = pathSegment(match[1]!, 'namespace');
    const name = pathSegment(match[2]!, 'name');
    const runner = [...this.runners.values()].find((r) => r.node.name === name && r.node.namespace === namespace);
    if (!runner) {
      const known = [...this.runners.values()].map((r) => `${r.node.name} -n ${r.node.namespace}`).join(', ');
      sendJson(res, 404, { error: `no proxy ${name} in namespace ${namespace}; running: ${known || 'none'}` });
      return true;
    }
    serveLogs(runner.logs, url, res);
    return true;
  }
}

function keyOf(d: { type: string; namespace: string; name: string }): string {
  return `${d.type}/${d.namespace}/${d.name}`;
}

function sameIdentity(d: ProxyDeclaration, node: NodeIdentity): boolean {
  return d.serviceAccount === node.serviceAccount && JSON.stringify(d.labels) === JSON.stringify(node.labels);
}
