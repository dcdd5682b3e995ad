// Local mode (`tollgate up`): the controller and its admin API in this process, and one child process per proxy
// replica (`tollgate proxy ...`), each on its own loopback pod address, supervised as a kubelet supervises pods
// (pod-process.ts). Proxies talk to the controller over the same HTTP protocol as in the separate-process layout,
// so local mode exercises the real paths; a crash, a SIGKILL or a CPU-heavy apply in one process cannot stop the
// others.
import type http from 'node:http';
import {
  Controller,
  loadOrCreateTokens,
  pathSegment,
  reportDiagnostics,
  sendJson,
  startAdminServer,
  TokenAuthenticator,
  tokenPath,
  type AdminServer,
  type ProxyStatus,
  type SubmittedFile,
} from '../controller/index.js';
import { formatConnectTo } from '../dataplane/index.js';
import { formatDiagnostic } from '../model/index.js';
import type { ProxyDeclaration, Snapshot } from '../snapshot/index.js';
import { PodAddressPool } from './pod-addresses.js';
import { PodProcess, type PodInfo, type ProxyProgram } from './pod-process.js';
import { claimPodRange, type PodRangeClaim } from './pod-range.js';
import { serveLogs } from './proxy-admin.js';
import { DEFAULT_DRAIN_MS } from './proxy-runner.js';
import { retireStandInTrust, standInCa, standInFiles, startStandIn, type StandInSite } from './stand-in.js';

export interface LocalMeshOptions {
  readonly configDir: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Undefined: the first range no other local mesh holds (see pod-range.ts). */
  readonly podCidr: string | undefined;
  /** `--dns-server` values, handed to every proxy. */
  readonly dnsServers: readonly string[];
  /** `--connect-to` values, handed to every proxy (the stand-ins' rules follow them). */
  readonly connectTo: readonly string[];
  /** External sites to serve locally (`--stand-in aliyun.com`). */
  readonly standIns: readonly string[];
  /** Files applied once at start (like `tollgate apply`), e.g. the example workload. */
  readonly seeds: readonly SubmittedFile[];
  /** How a proxy process is started: this program, then `proxy ...`. */
  readonly program: ProxyProgram;
  /** How long each proxy may drain when it stops. */
  readonly drainMs?: number;
  /** One line of output (no newline). */
  readonly out: (line: string) => void;
}

/** How long a rolling update waits for the new pods of a workload to be ready before it stops the old ones. */
const ROLLOUT_READY_WAIT_MS = 15_000;
/** How long `up` waits at start for its first pods to be ready. */
const START_READY_WAIT_MS = 20_000;
/** Beyond the drain time, how long a stopping proxy has before it is killed. */
const STOP_MARGIN_MS = 15_000;

interface Pod {
  readonly key: string;
  readonly declaration: ProxyDeclaration;
  readonly name: string;
  readonly ip: string;
  readonly process: PodProcess;
  /** Waiting for its successors to be ready before it is stopped. */
  retiring: boolean;
}

const kindOf = (type: string): string => (type === 'router' ? 'gateway' : 'sidecar');
const podKey = (d: { type: string; namespace: string }, pod: string): string => `${d.type}/${d.namespace}/${pod}`;
const workloadOf = (d: { type: string; namespace: string; name: string }): string =>
  `${d.type}/${d.namespace}/${d.name}`;

export class LocalMesh {
  /** Made once the pod range is known: how many proxies fit is part of what the controller checks. */
  /** Set once start() has made it; stop() may run after a start that failed before. */
  private controller!: Controller;
  private pool!: PodAddressPool;
  private claim: PodRangeClaim | undefined;
  private readonly standIns: StandInSite[] = [];
  private connectTo: readonly string[];
  /** A CA the proxies trust beyond the public ones: the stand-ins', while they run. */
  private trustedCaFile: string | undefined;
  /** Running pods (and pods waiting to be replaced), by type/namespace/pod. */
  private readonly pods = new Map<string, Pod>();
  /** Pods stopping: their address is released when they are gone. */
  private readonly leaving = new Map<string, { readonly pod: Pod; readonly done: Promise<void> }>();
  private admin: AdminServer | undefined;
  /** Declared pods with no pod address (each reported once). */
  private readonly unplaced = new Set<string>();
  private reconciling: Promise<void> = Promise.resolve();
  private stopped = false;

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

  private get drainMs(): number {
    return this.options.drainMs ?? DEFAULT_DRAIN_MS;
  }

  /** Starts everything, or (on any failure) stops what it had started and throws: nothing is left running. */
  async start(): Promise<void> {
    try {
      await this.startAll();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
  }

  private async startAll(): Promise<void> {
    const { out } = this.options;
    this.claim = await claimPodRange(this.options.podCidr, () => this.admin?.url ?? 'starting');
    for (const { cidr, holder } of this.claim.skipped) out(`tollgate | pod addresses ${cidr} are in use (${holder})`);
    out(`tollgate | pod addresses ${this.claim.cidr}`);
    this.pool = new PodAddressPool(this.claim.cidr);
    const ca = this.options.standIns.length > 0 ? standInCa(this.options.configDir) : undefined;
    for (const host of this.options.standIns) {
      const site = await startStandIn(host, this.pool.acquireFromTop(`stand-in/${host}`), ca!);
      this.standIns.push(site);
      // Explicit --connect-to rules come first: the first matching rule wins, as in curl.
      this.connectTo = [...this.connectTo, ...site.connectTo.map(formatConnectTo)];
      const ports = site.listeners.map((l) => `${l.protocol} ${l.servicePort} on port ${l.port}`).join(', ');
      out(`tollgate | stand-in for ${site.host} at ${site.address} (${ports})`);
    }
    if (ca) {
      this.trustedCaFile = standInFiles(this.options.configDir).cert;
      out(
        `tollgate | stand-in certificates come from a local CA (${this.trustedCaFile}); ` +
          'the proxies and `tollgate exec` trust it while stand-ins run',
      );
    }
    const controller = new Controller(this.options.configDir, {
      proxyCapacity: { limit: this.pool.capacity - this.standIns.length, setting: `--pod-cidr ${this.claim.cidr}` },
    });
    this.controller = controller;
    controller.on('warning', (message: string) => out(`tollgate | warning: ${message}`));
    await controller.start();
    reportDiagnostics(controller, (line) => out(`tollgate | ${line}`));
    // The proxies join with the proxy token from the config directory; the CLI reads the admin token there too.
    const tokens = loadOrCreateTokens(this.options.configDir);
    this.admin = await startAdminServer(controller, {
      listen: this.options.listen,
      auth: new TokenAuthenticator(tokens, this.options.configDir),
      extraRoutes: [(req, res, url) => this.logsRoute(req, res, url), (req, res, url) => this.podsRoute(req, res, url)],
    });
    this.controller.on('snapshot', (s: Snapshot) => this.scheduleReconcile(s));
    this.scheduleReconcile(this.controller.snapshot);
    if (this.options.seeds.length > 0) {
      const result = await this.controller.apply(this.options.seeds);
      for (const d of result.diagnostics) out(`tollgate | ${formatDiagnostic(d)}`);
      for (const c of result.changes) out(`tollgate | seed ${c.kind} ${c.namespace}/${c.name} ${c.action}`);
    }
    await this.reconciling;
    // Ready means serving; a withheld configuration serves nothing, and says so itself.
    const started = [...this.pods.values()].map((p) => p.name);
    if (this.controller.configState().state === 'withheld') return;
    if (!(await this.whenReady(started, START_READY_WAIT_MS)))
      out(`tollgate | warning: not every proxy was ready within ${START_READY_WAIT_MS} ms; see tollgate status`);
  }

  /**
   * Graceful shutdown: every proxy drains (leaves the endpoints, finishes what it serves), then the controller
   * lets requests in flight finish, then the rest stops.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const controller = this.controller as Controller | undefined;
    controller?.removeAllListeners('snapshot');
    await this.reconciling;
    for (const key of [...this.pods.keys()]) this.stopPod(key);
    await Promise.all([...this.leaving.values()].map((l) => l.done));
    await this.admin?.drain(this.drainMs);
    controller?.stop();
    await Promise.all(this.standIns.map((s) => s.close()));
    if (this.standIns.length > 0) retireStandInTrust(this.options.configDir);
    await this.claim?.release();
  }

  /** The supervisor's view of every pod: phase, restarts, process. */
  podInfo(): PodInfo[] {
    return this.allPods().map((p) => p.process.info);
  }

  /** Running pods, then those on their way out (their logs and state still count). */
  private allPods(): Pod[] {
    return [...this.pods.values(), ...[...this.leaving.values()].map((l) => l.pod)];
  }

  private scheduleReconcile(snapshot: Snapshot): void {
    this.reconciling = this.reconciling
      .then(() => this.reconcile(snapshot.proxies))
      .catch((err: unknown) =>
        this.options.out(`tollgate | warning: proxies not reconciled: ${err instanceof Error ? err.message : err}`),
      );
  }

  /**
   * Starts the declared pods that are not running; stops those no longer declared. A workload whose pod template
   * changed (new pod names) is rolled: its old pods stop once the new ones are ready (or after a timeout), so that
   * it always has endpoints. A plain scale-down stops the highest ordinals at once; the others are not touched.
   */
  private async reconcile(declared: readonly ProxyDeclaration[]): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, { declaration: ProxyDeclaration; pod: string }>();
    for (const d of declared) for (const pod of d.pods) wanted.set(podKey(d, pod), { declaration: d, pod });
    const fresh = new Map<string, string[]>();
    for (const key of this.unplaced) if (!wanted.has(key)) this.unplaced.delete(key);
    for (const [key, { declaration: d, pod }] of wanted) {
      const running = this.pods.get(key);
      if (running) {
        running.retiring = false;
        continue;
      }
      if (this.leaving.has(key)) continue; // started again once it is gone
      const ip = this.pool.tryAcquire(key);
      if (ip === undefined) {
        // More pods than addresses (a directory edited by hand; apply refuses this): run what fits, say the rest.
        if (!this.unplaced.has(key))
          this.options.out(
            `tollgate | ${kindOf(d.type)} ${d.name}.${d.namespace} not started: no pod address left in --pod-cidr ` +
              `${this.claim?.cidr} (${this.pool.capacity} addresses) for pod ${pod}; widen --pod-cidr or remove a ` +
              'Deployment or replicas',
          );
        this.unplaced.add(key);
        continue;
      }
      this.unplaced.delete(key);
      this.startPod(key, d, pod, ip);
      const names = fresh.get(workloadOf(d)) ?? [];
      names.push(pod);
      fresh.set(workloadOf(d), names);
    }
    for (const [key, pod] of this.pods) {
      if (wanted.has(key) || pod.retiring) continue;
      const successors = fresh.get(workloadOf(pod.declaration));
      if (!successors) {
        this.stopPod(key);
        continue;
      }
      pod.retiring = true;
      void this.whenReady(successors, ROLLOUT_READY_WAIT_MS).then(() => {
        if (pod.retiring && this.pods.get(key) === pod) this.stopPod(key);
      });
    }
  }

  private startPod(key: string, d: ProxyDeclaration, pod: string, ip: string): void {
    const { out } = this.options;
    const args = [
      '--controller',
      this.url,
      'proxy',
      kindOf(d.type),
      '--name',
      d.name,
      '--namespace',
      d.namespace,
      '--pod',
      pod,
      '--ip',
      ip,
      '--service-account',
      d.serviceAccount,
      '--token-file',
      tokenPath(this.options.configDir, 'proxy'),
      '--drain-timeout',
      `${this.drainMs}ms`,
      '--supervised',
      // One process per pod: local mode runs many proxies on one machine (`tollgate proxy` alone defaults to 2
      // workers for a gateway, as Istio's gateways run 2 worker threads).
      '--concurrency',
      '1',
      ...Object.entries(d.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      ...this.options.dnsServers.flatMap((server) => ['--dns-server', server]),
      ...this.connectTo.flatMap((rule) => ['--connect-to', rule]),
      ...(this.trustedCaFile ? ['--trusted-ca', this.trustedCaFile] : []),
    ];
    const prefix = `${pod}.${d.namespace}`;
    const process = new PodProcess(
      this.options.program,
      { pod, namespace: d.namespace, args },
      {
        stdout: (line) => out(`${prefix} | ${line}`),
        // The proxy prefixes its own event lines with its pod; the supervisor's carry it too.
        event: (line) => out(line.startsWith(`${prefix} | `) ? line : `${prefix} | ${line}`),
      },
    );
    this.pods.set(key, { key, declaration: d, name: pod, ip, process, retiring: false });
    process.start();
    out(`tollgate | ${kindOf(d.type)} ${prefix} started at ${ip}`);
  }

  /** SIGTERM to the pod's process; its address is free again once it has drained and exited. */
  private stopPod(key: string): void {
    const pod = this.pods.get(key);
    if (!pod) return;
    this.pods.delete(key);
    const done = pod.process.stop(this.drainMs + STOP_MARGIN_MS).then(() => {
      this.leaving.delete(key);
      this.pool.release(key);
      this.options.out(`tollgate | ${kindOf(pod.declaration.type)} ${pod.name}.${pod.declaration.namespace} stopped`);
      // It may be wanted again (scaled down and up quickly): the next reconcile starts it anew.
      if (!this.stopped) this.scheduleReconcile(this.controller.snapshot);
    });
    this.leaving.set(key, { pod, done });
  }

  /** Resolves true once every named pod is connected and ready (an endpoint); false after `timeoutMs`. */
  private async whenReady(pods: readonly string[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = new Set(
        this.controller
          .status()
          .proxies.filter((p) => p.ready)
          .map((p) => p.pod),
      );
      if (pods.every((p) => ready.has(p))) return true;
      if (Date.now() > deadline || this.stopped) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * GET /v1/logs/:namespace/:name[?follow=1&tail=N]: the access log of a pod, or of every pod of a workload or
   * gateway merged (each line prefixed with its pod, as `kubectl logs -l ... --prefix`), as text.
   */
  private logsRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
    const match = /^\/v1\/logs\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return false;
    const namespace = pathSegment(match[1]!, 'namespace');
    const name = pathSegment(match[2]!, 'name');
    const inNamespace = this.allPods().filter((p) => p.declaration.namespace === namespace);
    const pods = inNamespace.filter((p) => p.name === name || p.declaration.name === name);
    if (pods.length === 0) {
      const known = [...new Set(this.allPods().map((p) => `${p.declaration.name} -n ${p.declaration.namespace}`))];
      sendJson(res, 404, {
        error: `no proxy ${name} in namespace ${namespace}; running: ${known.join(', ') || 'none'}`,
      });
      return true;
    }
    serveLogs(
      pods.sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => ({ pod: p.name, logs: p.process.logs })),
      url,
      res,
    );
    return true;
  }

  /** GET /v1/pods: every pod as the supervisor sees it, joined with the controller's status of it. */
  private podsRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
    if (req.method !== 'GET' || url.pathname !== '/v1/pods') return false;
    const status = new Map(this.controller.status().proxies.map((p) => [p.pod, p] as const));
    const pods = this.allPods().map((p) => ({
      ...p.process.info,
      workload: p.declaration.name,
      type: p.declaration.type,
      ip: p.ip,
      status: status.get(p.name) satisfies ProxyStatus | undefined,
    }));
    sendJson(res, 200, { pods });
    return true;
  }
}
