// The controller (istiod's role): owns the resources in force, builds an immutable snapshot when they or the
// live proxies change, translates it per proxy and pushes it; tracks what each proxy acknowledged.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hasErrors, resourceKey, type AnyResource, type Diagnostic, type Kind, type Resource } from '../model/index.js';
import { podName, type NodeIdentity, type ProxyConfig } from '../proxy-config/types.js';
import { buildSnapshot, instancesInUse, type ProxyDeclaration, type Snapshot } from '../snapshot/index.js';
import { retarget, translate, translationKey } from '../translation/index.js';
import { makeDiagnostic } from '../validation/index.js';
import { analysisOf, analyzeFiles, mergeOver, parseFiles, type SubmittedFile } from './analysis.js';
import { capacityFindings, overCapacity, podKey, podKeys, type ProxyCapacity } from './capacity.js';
import { ConfigDirectory } from './config-dir.js';
import { FirstSeen } from './first-seen.js';
import { MeshCa, WORKLOAD_CERT_TTL_MS } from './mesh-ca.js';
import { SecretStore } from './secret-store.js';
import { readGeneration, writeGeneration } from './generation.js';
import { whenAnswered, type ProxyState, type ProxyStream } from './proxy-state.js';
import { podStatuses } from './pod-status.js';
import { Rollout } from './rollout.js';

export type { ProxyStream } from './proxy-state.js';

/** How long endpoint changes must be still before they are pushed, and the longest they wait (scheduleEndpointRebuild). */
export const ENDPOINT_DEBOUNCE_MS = 100;
export const ENDPOINT_DEBOUNCE_MAX_MS = 1_000;

export type ConnectResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** accepted; no such proxy connected; or a session that is not the one of its stream (someone else's ACK). */
export type AckResult = 'accepted' | 'unknown-proxy' | 'wrong-session';

export type { ProxyStatus } from './pod-status.js';
import type { ProxyStatus } from './pod-status.js';

/** What a drain request came to. */
export type DrainResult = AckResult | 'timeout';

export type { SubmittedFile } from './analysis.js';

export interface ConfigState {
  readonly state: 'current' | 'last-good' | 'withheld';
  readonly problems: readonly Diagnostic[];
}

export type ChangeAction = 'created' | 'configured' | 'unchanged' | 'deleted';

export interface ChangeResult {
  readonly ok: boolean;
  readonly version: string;
  readonly changes: readonly {
    kind: Kind;
    namespace: string;
    name: string;
    apiVersion: string;
    action: ChangeAction;
  }[];
  readonly diagnostics: readonly Diagnostic[];
  readonly notFound?: readonly string[];
}

export interface ResourceRef {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
}

export interface ControllerOptions {
  /** Where stream sessions come from (injected in tests, like the clock). */
  readonly newSession?: () => string;
  /** How many proxies can run (local mode: the pod addresses of --pod-cidr); unbounded when absent. */
  readonly proxyCapacity?: ProxyCapacity;
  /** How long a push step waits for a proxy's ACK before going on without it (rollout.ts). */
  readonly ackWaitMs?: number;
}

export class Controller extends EventEmitter {
  private readonly store: ConfigDirectory;
  private readonly secrets: SecretStore;
  private readonly firstSeen: FirstSeen;
  private readonly proxies = new Map<string, ProxyState>();
  private generation = 0;
  private current!: Snapshot;
  /**
   * Configs translated from each snapshot, by translation key: replicas of one workload (and sidecars alike in
   * namespace and labels) share one translation and its serialization, not one each.
   */
  private translations = new WeakMap<Snapshot, Map<string, ProxyConfig>>();
  private fingerprint = '';
  /** The config directory's placement the current snapshot was made at. */
  private placement = 0;
  private rebuildScheduled = false;
  /** A scheduled rebuild must make a new snapshot even if nothing it depends on changed (see connect). */
  private forceNext = false;
  /** Endpoint changes wait for this timer, so that replicas becoming ready together share one push. */
  private endpointTimer: NodeJS.Timeout | undefined;
  private endpointsChangedAt = 0;
  /** Serializes apply/delete so each validates against the state it will change. */
  private mutations: Promise<unknown> = Promise.resolve();

  private readonly newSession: () => string;
  private readonly capacity: ProxyCapacity | undefined;
  private ca: MeshCa | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly rollout: Rollout;

  constructor(configDir: string, options: ControllerOptions = {}) {
    super();
    this.capacity = options.proxyCapacity;
    this.newSession = options.newSession ?? (() => randomBytes(24).toString('base64url'));
    this.store = new ConfigDirectory(configDir, () => {
      this.scheduleRebuild();
      this.emit('directory-changed');
    });
    this.firstSeen = new FirstSeen(configDir);
    this.secrets = new SecretStore(configDir, (message) => this.emit('warning', message));
    this.rollout = new Rollout(
      {
        connected: () => [...this.proxies.values()],
        isConnected: (state) => this.proxies.get(state.node.id) === state,
        translate: (node, snapshot) => this.translateFor(node, snapshot),
        send: (state, version, config) => this.send(state, version, config),
        withheld: () => this.store.withheld() !== undefined,
        warn: (message) => this.emit('warning', message),
      },
      options.ackWaitMs,
    );
  }

  get snapshot(): Snapshot {
    return this.current;
  }

  get configDir(): string {
    return this.store.dir;
  }

  async start(): Promise<void> {
    this.generation = readGeneration(this.store.dir);
    this.ca = MeshCa.loadOrCreate(this.store.dir);
    // Certificates are renewed at half their lifetime; checking every few minutes keeps well ahead of that.
    this.renewTimer = setInterval(() => this.renewIdentities(), 5 * 60 * 1000);
    this.renewTimer.unref();
    await this.store.load();
    this.secrets.scan();
    this.firstSeen.load();
    for (const notice of this.store.notices) this.emit('warning', notice);
    this.rebuild();
    this.store.watch();
    this.secrets.watch(() => this.scheduleRebuild());
  }

  /** Rereads the config directory now (it is also watched), and pushes what changed. */
  async reload(): Promise<void> {
    if (await this.store.scan()) {
      this.rebuild();
      this.emit('directory-changed');
    }
  }

  stop(): void {
    clearInterval(this.renewTimer);
    clearTimeout(this.endpointTimer);
    this.secrets.close();
    this.store.close();
    for (const p of this.proxies.values()) p.stream.close();
    this.proxies.clear();
  }

  /** The snapshot every connected proxy has been pushed (the last one rolled out completely). */
  get served(): Snapshot | undefined {
    return this.rollout.servedSnapshot;
  }

  /** Resolves true once `version` (or a later one) has reached every connected proxy; false after `timeoutMs`. */
  whenServed(version: string, timeoutMs: number): Promise<boolean> {
    return this.rollout.whenServed(version, timeoutMs);
  }

  /** Diagnostics of the resources in force: ingest and validation of the directory, and the analyzers. */
  diagnostics(): Diagnostic[] {
    return [...this.store.diagnostics(), ...analysisOf(this.current), ...this.capacityFindings()];
  }

  /** Proxies of the configuration in force that cannot run; those running keep their place. */
  private capacityFindings(): Diagnostic[] {
    if (!this.capacity) return [];
    const running = new Set([...this.proxies.values()].map((p) => podKey({ ...p.node, pod: podName(p.node) })));
    return capacityFindings(this.current, overCapacity(this.current.proxies, running, this.capacity), this.capacity);
  }

  resources(): readonly AnyResource[] {
    return this.store.resources();
  }

  /** When this controller (or an earlier run on the same config directory) first had the resource in force. */
  createdAt(r: AnyResource): string | undefined {
    return this.firstSeen.get(resourceKey(r));
  }

  /**
   * What `analyze -f` shows: the files' own findings plus the analyzers over the configuration in force with the
   * files' resources merged over it (a file's resource replaces the one in force with the same kind/ns/name).
   */
  analyzeWith(files: readonly SubmittedFile[]): Diagnostic[] {
    return [
      ...this.store.diagnostics(),
      ...analyzeFiles(files, this.store.resources(), this.instances(), this.secrets.current()),
      ...this.capacityFindings(),
    ];
  }

  // -- proxies --------------------------------------------------------------------------------------------------

  /**
   * Registers a proxy's stream. An id is bound to the stream that holds it: a second stream for a connected id is
   * refused, unless it presents the first one's session (the same proxy reconnecting before its old stream was
   * seen to close). A proxy that already holds a newer version than ours (we restarted and lost count) moves the
   * count past it, so that versions still only grow from its point of view.
   */
  connect(
    node: NodeIdentity,
    stream: ProxyStream,
    opts: { resume?: string; currentVersion?: string; publicKey?: string } = {},
  ): ConnectResult {
    const previous = this.proxies.get(node.id);
    if (previous) {
      if (opts.resume === undefined || !sameSecret(opts.resume, previous.session))
        return { ok: false, error: `a proxy with id ${node.id} is already connected; its stream is not replaced` };
      previous.stream.close();
    }
    const held = Number(opts.currentVersion ?? 0);
    const ahead = Number.isSafeInteger(held) && held > this.generation;
    if (ahead) this.generation = held;
    const session = this.newSession();
    stream.open(session);
    this.proxies.set(node.id, {
      node,
      stream,
      session,
      connectedAt: Date.now(),
      ...(opts.publicKey !== undefined ? { publicKey: opts.publicKey } : {}),
      // A proxy that already serves a config (it outlived a controller restart, or its stream) stays an endpoint;
      // a new one becomes one once it has applied its first config, as a pod once its readiness probe passes.
      ready: opts.currentVersion !== undefined || previous?.ready === true,
      draining: previous?.draining === true,
      watchers: new Set(),
    });
    if (previous) for (const watch of [...previous.watchers]) watch();
    // The proxy gets the snapshot in force (the rebuild's catch-up). The others are pushed only if their configs
    // change: when this one is a ready endpoint of some Service (a replica reconnecting), or when it holds a version
    // ahead of ours (we restarted and lost count), which takes a new snapshot past it for every proxy.
    // Scheduled, not done here: proxies connecting together (a rollout, a controller restart) share one rebuild.
    this.scheduleRebuild(ahead);
    return { ok: true };
  }

  disconnect(nodeId: string, stream: ProxyStream): void {
    const state = this.proxies.get(nodeId);
    if (!state || state.stream !== stream) return;
    this.proxies.delete(nodeId);
    for (const watch of [...state.watchers]) watch();
    this.scheduleEndpointRebuild();
  }

  ack(nodeId: string, session: string, version: string, ok: boolean, error?: string): AckResult {
    const state = this.proxies.get(nodeId);
    if (!state) return 'unknown-proxy';
    if (!sameSecret(session, state.session)) return 'wrong-session';
    if (ok) {
      state.acked = version;
      if (state.nack && Number(state.nack.version) <= Number(version)) state.nack = undefined;
      if (!state.ready && !state.draining) {
        // Ready: from the next version on, it is an endpoint of its Services.
        state.ready = true;
        this.scheduleEndpointRebuild();
      }
    } else {
      state.nack = { version, error: error ?? 'rejected' };
    }
    for (const watch of [...state.watchers]) watch();
    this.emit('ack', state);
    return 'accepted';
  }

  /**
   * A proxy going away (Envoy's drain, a pod's preStop): it stops being an endpoint at once, and this resolves
   * 'accepted' once every other proxy has been pushed a config without it and has answered, so that the proxy can
   * then close its connections knowing no new request is on its way. It keeps getting pushes until it leaves.
   */
  async drain(nodeId: string, session: string, timeoutMs: number): Promise<DrainResult> {
    const state = this.proxies.get(nodeId);
    if (!state) return 'unknown-proxy';
    if (!sameSecret(session, state.session)) return 'wrong-session';
    if (!state.draining) {
      state.draining = true;
      state.ready = false;
      this.rebuild();
    }
    const version = this.current.version;
    const deadline = Date.now() + timeoutMs;
    if (!(await this.rollout.whenServed(version, timeoutMs))) return 'timeout';
    const others = [...this.proxies.values()].filter((p) => p !== state);
    const answers = await Promise.all(
      others.map((p) =>
        whenAnswered(p, version, Math.max(0, deadline - Date.now()), () => this.proxies.get(p.node.id) !== p),
      ),
    );
    // A proxy that left meanwhile needs no answer; one still connected that did not answer in time does.
    return answers.every((ok, i) => ok || this.proxies.get(others[i]!.node.id) !== others[i]) ? 'accepted' : 'timeout';
  }

  /**
   * Whether the configuration in force is what the config directory says: `current`; or, for some files, their
   * last good version (`last-good`); or nothing at all, because a start found errors and no last good record
   * (`withheld`: proxies get no config).
   */
  configState(): ConfigState {
    const withheld = this.store.withheld();
    if (withheld) return { state: 'withheld', problems: [withheld] };
    const degraded = this.store.degraded();
    return degraded.length > 0 ? { state: 'last-good', problems: degraded } : { state: 'current', problems: [] };
  }

  /** Every declared pod (connected or not), then connected proxies that no declaration expects. */
  status(): { version: string; config: ConfigState; proxies: ProxyStatus[] } {
    const version = this.current.version;
    return {
      version,
      config: this.configState(),
      proxies: podStatuses(this.current.proxies, [...this.proxies.values()], version),
    };
  }

  /** Resolves once every declared proxy has acknowledged `version` or later; or names those that have not. */
  waitForSync(version: string, timeoutMs: number): Promise<{ ok: boolean; lagging: ProxyStatus[] }> {
    const target = Number(version);
    const lagging = (): ProxyStatus[] =>
      this.status().proxies.filter((p) => p.declared && !(p.acked !== undefined && Number(p.acked) >= target));
    const rejected = (): ProxyStatus[] =>
      this.status().proxies.filter((p) => p.nack !== undefined && Number(p.nack.version) >= target);
    return new Promise((resolve) => {
      const check = (): boolean => {
        const nacked = rejected();
        if (nacked.length > 0) {
          finish({ ok: false, lagging: nacked });
          return true;
        }
        if (lagging().length === 0) {
          finish({ ok: true, lagging: [] });
          return true;
        }
        return false;
      };
      const finish = (result: { ok: boolean; lagging: ProxyStatus[] }): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.off('ack', onAck);
        resolve(result);
      };
      const onAck = (): void => void check();
      const timer = setTimeout(() => finish({ ok: false, lagging: lagging() }), timeoutMs);
      // Proxies that appear later (a new Deployment's sidecar) register without an ack event of ours.
      const poll = setInterval(() => void check(), 100);
      this.on('ack', onAck);
      check();
    });
  }

  configFor(name: string, namespace: string): ProxyConfig | undefined {
    const p = [...this.proxies.values()].find(
      (s) => (s.node.name === name || podName(s.node) === name) && s.node.namespace === namespace,
    );
    return p ? this.translateFor(p.node, this.current) : undefined;
  }

  // -- config changes -------------------------------------------------------------------------------------------

  /** Validates the files as a whole, then persists them: all of them, or (on any error) nothing. */
  apply(files: readonly SubmittedFile[], dryRun = false): Promise<ChangeResult> {
    return this.serialize(async () => {
      // A credential folder created just before the apply counts in its analysis, not only after the next poll.
      if (this.secrets.scan()) this.scheduleRebuild();
      const { resources: incoming, diagnostics } = parseFiles(files);
      const version = this.current.version;
      if (hasErrors(diagnostics)) return { ok: false, version, changes: [], diagnostics };
      // Nothing is served until the directory reads cleanly; a change on top of it would be taken for good.
      const withheld = this.store.withheld();
      if (withheld && !dryRun) return { ok: false, version, changes: [], diagnostics: [...diagnostics, withheld] };

      const inForce = new Map(this.store.resources().map((r) => [resourceKey(r), r] as const));
      const batch = new Map(incoming.map((r) => [resourceKey(r), r] as const));
      const candidate = mergeOver([...inForce.values()], [...batch.values()]);
      const analysis = [...this.analyzeCandidate(candidate, new Set(batch.keys())), ...this.capacityOf(candidate)];
      if (hasErrors(analysis)) return { ok: false, version, changes: [], diagnostics: [...diagnostics, ...analysis] };

      const planned = [...batch.entries()].map(([key, r]) => {
        const old = inForce.get(key);
        const action: ChangeAction = !old ? 'created' : old.text.trim() === r.text.trim() ? 'unchanged' : 'configured';
        return { resource: r, action };
      });
      const changes = planned.map(({ resource: r, action }) => ({
        kind: r.kind,
        namespace: r.meta.namespace,
        name: r.meta.name,
        apiVersion: r.apiVersion,
        action,
      }));
      const toWrite = planned.filter((p) => p.action !== 'unchanged').map((p) => p.resource);
      if (!dryRun && toWrite.length > 0) {
        await this.persist(toWrite, []);
        this.rebuild();
      }
      return { ok: true, version: this.current.version, changes, diagnostics: [...diagnostics, ...analysis] };
    });
  }

  /** Deletes resources named by reference or by the documents of files. Missing ones are reported. */
  delete(refs: readonly ResourceRef[], files: readonly SubmittedFile[] = []): Promise<ChangeResult> {
    return this.serialize(async () => {
      const parsed = parseFiles(files);
      const diagnostics = parsed.diagnostics.filter((d) => d.level === 'error' && d.code === 'TG0001');
      if (diagnostics.length > 0) return { ok: false, version: this.current.version, changes: [], diagnostics };
      const wanted: ResourceRef[] = [
        ...refs,
        ...parsed.resources.map((r) => ({ kind: r.kind, namespace: r.meta.namespace, name: r.meta.name })),
      ];
      const inForce = new Map(this.store.resources().map((r) => [resourceKey(r), r] as const));
      const found: AnyResource[] = [];
      const notFound: string[] = [];
      for (const ref of wanted) {
        const r = inForce.get(resourceKey({ kind: ref.kind, meta: ref }));
        if (r) found.push(r);
        else notFound.push(`${ref.kind} ${ref.namespace}/${ref.name}`);
      }
      // Deleting is never refused (as in Istio), but what it breaks is said: errors it introduces elsewhere.
      let broken: Diagnostic[] = [];
      if (found.length > 0) {
        const gone = new Set(found.map(resourceKey));
        broken = this.analyzeCandidate(
          this.store.resources().filter((r) => !gone.has(resourceKey(r))),
          new Set(),
        );
        await this.persist([], found.map(resourceKey));
        this.rebuild();
      }
      const remaining = this.store.resources();
      const stillThere = new Set(remaining.map(resourceKey));
      const stuck = found.filter((r) => stillThere.has(resourceKey(r)));
      const changes = found
        .filter((r) => !stillThere.has(resourceKey(r)))
        .map((r) => ({
          kind: r.kind,
          namespace: r.meta.namespace,
          name: r.meta.name,
          apiVersion: r.apiVersion,
          action: 'deleted' as const,
        }));
      const stuckDiagnostics: Diagnostic[] = stuck.map((r) =>
        makeDiagnostic('DeleteFailed', {
          message: `${r.kind} ${r.meta.namespace}/${r.meta.name} could not be removed from ${r.source.file}`,
          position: r.source,
          resource: { kind: r.kind, namespace: r.meta.namespace, name: r.meta.name },
          hint: 'edit the file by hand',
        }),
      );
      return {
        ok: notFound.length === 0 && stuck.length === 0,
        version: this.current.version,
        changes,
        diagnostics: [...broken, ...stuckDiagnostics],
        notFound,
      };
    });
  }

  /** A failed write changes nothing (the journal rolls it back); the caller hears what failed. */
  private async persist(upserts: readonly AnyResource[], deletes: readonly string[]): Promise<void> {
    try {
      await this.store.persist(upserts, deletes);
    } catch (err) {
      throw new Error(
        `nothing changed: the config directory could not be written (${(err as Error).message}); the configuration in force is as before`,
      );
    }
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.mutations.then(work, work);
    this.mutations = run.catch(() => undefined);
    return run;
  }

  /** A candidate that declares more new proxies than there is room for: one error per proxy left out. */
  private capacityOf(candidate: readonly AnyResource[]): Diagnostic[] {
    if (!this.capacity) return [];
    const snapshot = buildSnapshot({
      version: 'candidate',
      resources: candidate,
      instances: [],
      secrets: this.secrets.current(),
    });
    // Only what the candidate adds is refused: pods the configuration in force already declares keep their place.
    const declared = podKeys(this.current.proxies);
    const name = (p: ProxyDeclaration): string => `${p.type}/${p.namespace}/${p.name}`;
    const over = new Set(overCapacity(this.current.proxies, declared, this.capacity).map(name));
    const left = overCapacity(snapshot.proxies, declared, this.capacity).filter((p) => !over.has(name(p)));
    return capacityFindings(snapshot, left, this.capacity);
  }

  /**
   * Analyzer findings for a candidate set: every finding about the resources being changed, plus any error the
   * change introduces elsewhere (a ServiceEntry edit that leaves a gateway route with no endpoints is reported on
   * the VirtualService). Errors already present before the change do not block it.
   */
  private analyzeCandidate(candidate: readonly AnyResource[], keys: ReadonlySet<string>): Diagnostic[] {
    const findingKey = (d: Diagnostic): string =>
      `${d.code}|${d.resource?.kind}/${d.resource?.namespace}/${d.resource?.name}|${d.field ?? ''}|${d.message}`;
    const before = new Set(
      analysisOf(this.current)
        .filter((d) => d.level === 'error')
        .map(findingKey),
    );
    const snapshot = buildSnapshot({
      version: 'candidate',
      resources: candidate,
      instances: this.instances(),
      secrets: this.secrets.current(),
    });
    return analysisOf(snapshot).filter((d) => {
      const own = d.resource !== undefined && keys.has(`${d.resource.kind}/${d.resource.namespace}/${d.resource.name}`);
      return own || (d.level === 'error' && !before.has(findingKey(d)));
    });
  }

  // -- snapshot and push ----------------------------------------------------------------------------------------

  /** The endpoints: ready proxies, as Kubernetes Endpoints list ready pods. */
  private instances(): NodeIdentity[] {
    return [...this.proxies.values()]
      .filter((p) => p.ready && !p.draining)
      .map((p) => p.node)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** A rebuild on the next turn of the loop, then the snapshot in force for proxies that have not had it. */
  private scheduleRebuild(force = false): void {
    if (force) this.forceNext = true;
    if (this.rebuildScheduled) return;
    this.rebuildScheduled = true;
    setImmediate(() => {
      this.rebuildScheduled = false;
      const f = this.forceNext;
      this.forceNext = false;
      this.rebuild(f);
      this.rollout.catchUp();
    });
  }

  /**
   * A rebuild for a change of endpoints (a replica ready, or gone): once they have been still for
   * ENDPOINT_DEBOUNCE_MS, or ENDPOINT_DEBOUNCE_MAX_MS after the first, as istiod debounces its pushes. A
   * Deployment's replicas becoming ready one after another then cost every proxy one push, not one each.
   */
  private scheduleEndpointRebuild(): void {
    const now = performance.now();
    if (this.endpointTimer === undefined) this.endpointsChangedAt = now;
    clearTimeout(this.endpointTimer);
    const wait = Math.min(ENDPOINT_DEBOUNCE_MS, Math.max(0, this.endpointsChangedAt + ENDPOINT_DEBOUNCE_MAX_MS - now));
    this.endpointTimer = setTimeout(() => {
      this.endpointTimer = undefined;
      this.scheduleRebuild();
    }, wait);
    this.endpointTimer.unref();
  }

  /**
   * Builds a new snapshot when what it depends on changed (or when forced), then pushes every connected proxy its
   * translation. What it depends on: the resources in force, the instances in use as endpoints (instancesInUse),
   * whether config is withheld, the secrets. Versions only grow.
   */
  private rebuild(force = false): void {
    const resources = this.store.resources();
    const instances = instancesInUse(
      resources.filter((r): r is Resource<'Service'> => r.kind === 'Service'),
      this.instances(),
    );
    const fingerprint = JSON.stringify([
      this.store.revision,
      instances,
      !!this.store.withheld(),
      this.secrets.fingerprint,
    ]);
    if (!force && this.current && fingerprint === this.fingerprint) {
      // The same resources, moved in their files: the snapshot is made again under its version, for the positions
      // its analysis names. What each proxy is sent is unchanged, so nothing is pushed.
      if (this.placement !== this.store.placement) {
        this.placement = this.store.placement;
        this.current = this.snapshotOf(this.current.version, resources, instances);
      }
      return;
    }
    this.fingerprint = fingerprint;
    this.placement = this.store.placement;
    this.firstSeen.observe(resources.map(resourceKey));
    // Two versions a snapshot: the one before its own is its make-before-break step (rollout.ts).
    this.generation += 2;
    writeGeneration(this.store.dir, this.generation, (message) => this.emit('warning', message));
    this.current = this.snapshotOf(String(this.generation), resources, instances);
    this.emit('snapshot', this.current);
    // Withheld: the proxies get nothing rather than a config built from what happened to be readable.
    if (this.store.withheld()) return;
    this.rollout.schedule(this.current);
  }

  private snapshotOf(version: string, resources: readonly AnyResource[], instances: NodeIdentity[]): Snapshot {
    return buildSnapshot({ version, resources, instances, secrets: this.secrets.current() });
  }

  private translateFor(node: NodeIdentity, snapshot: Snapshot): ProxyConfig | undefined {
    try {
      // One translation per snapshot and translation key, retargeted to each proxy that shares the key.
      let byKey = this.translations.get(snapshot);
      if (!byKey) this.translations.set(snapshot, (byKey = new Map()));
      const key = translationKey(node);
      let shared = byKey.get(key);
      if (!shared) byKey.set(key, (shared = translate(node, snapshot)));
      return retarget(shared, node);
    } catch (err) {
      // Translation is pure and total by design; a throw is a bug. Keep the proxy on its last config.
      this.emit('warning', `translation for ${node.id} failed: ${err instanceof Error ? err.stack : String(err)}`);
      return undefined;
    }
  }

  private send(state: ProxyState, version: string, config: ProxyConfig): void {
    const identity = this.identityFor(state);
    state.sent = version;
    state.stream.send(version, identity ? { ...config, identity } : config);
  }

  /** The proxy's mesh certificate: the one issued, until half its lifetime is gone. */
  private identityFor(state: ProxyState): { certificateChain: string; trustedCa: string } | undefined {
    if (!this.ca || state.publicKey === undefined) return undefined;
    const now = Date.now();
    if (!state.identity || now - state.identity.issuedAt > WORKLOAD_CERT_TTL_MS / 2) {
      try {
        state.identity = this.ca.issue(state.node, state.publicKey, now);
      } catch (err) {
        this.emit('warning', `cannot issue a certificate for ${state.node.id}: ${(err as Error).message}`);
        return undefined;
      }
    }
    return { certificateChain: state.identity.certificateChain, trustedCa: state.identity.trustedCa };
  }

  /** Pushes again to proxies whose certificate is past half its lifetime: the push carries a new one. */
  private renewIdentities(): void {
    if (this.store.withheld()) return;
    const now = Date.now();
    const served = this.rollout.servedSnapshot;
    if (!served) return;
    for (const state of this.proxies.values()) {
      if (!state.identity || now - state.identity.issuedAt <= WORKLOAD_CERT_TTL_MS / 2) continue;
      const config = this.translateFor(state.node, served);
      if (config) this.send(state, served.version, config);
    }
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
