// The egress corpus: every directory next to this file is one configuration as users write it (istio.io's egress
// tasks, Alibaba Cloud ASM's docs, and broken variants of them) with an expect.yaml holding the exact set of
// findings and the outcome of requests and connections through the proxies. One table-driven runner for all of
// them: ingest -> analyze -> translate -> the data plane's compiled config, router and filter chains, the path a
// live request or connection takes. A case's secrets/ folder is its config directory's credentials.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, type AnyResource, type Diagnostic } from '../../src/model/index.js';
import { parseYaml } from '../../src/ingest/index.js';
import { nodeId, type NodeIdentity, type ProxyConfig } from '../../src/proxy-config/types.js';
import { type AnalysisEnvironment, analyze, buildSnapshot, type Snapshot } from '../../src/snapshot/index.js';
import { retarget, translate, translationKey } from '../../src/translation/index.js';
import { SecretStore } from '../../src/controller/secret-store.js';
import { compileConfig, type CompiledConfig, explainRequest, type RouteDecision } from '../../src/dataplane/index.js';
import type { ConnectionFacts } from '../../src/dataplane/network/filter-chains.js';
import {
  readExpectation,
  type CaseExpectation,
  type ConnectionCase,
  type ExpectedConnectionOutcome,
  type ExpectedDiagnostic,
  type ExpectedOutcome,
  type ProxyRef,
} from './expect-file.js';

// Compiled into dist/test/corpus/; tsc copies no YAML, so the cases are read from the source tree.
const here = path.dirname(fileURLToPath(import.meta.url));
const CORPUS = path.resolve(here, '..', '..', '..', 'test', 'corpus');

interface LoadedCase {
  readonly name: string;
  readonly files: readonly string[];
  readonly expectation: CaseExpectation;
  readonly diagnostics: readonly Diagnostic[];
  readonly snapshot: Snapshot;
}

function caseNames(): string[] {
  return fs
    .readdirSync(CORPUS, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(CORPUS, e.name, 'expect.yaml')))
    .map((e) => e.name)
    .sort();
}

/**
 * Live proxies as the local mesh registers them: one per declared proxy (egress gateways first, then one sidecar
 * per Deployment), addresses handed out in that order from 10.0.0.1.
 */
function instancesFor(declared: Snapshot['proxies']): NodeIdentity[] {
  return declared.map((p, i) => {
    const ip = `10.0.0.${i + 1}`;
    return {
      id: nodeId(p.type, ip, p.name, p.namespace),
      type: p.type,
      name: p.name,
      namespace: p.namespace,
      ip,
      labels: p.labels,
      serviceAccount: p.serviceAccount,
    };
  });
}

/**
 * The case folder stands for the config directory and the proxies' working directory: its secrets/ folder holds
 * the credentials, and a relative certificate path is read there (an absolute one as it is on this host).
 */
function caseEnvironment(dir: string): AnalysisEnvironment {
  return {
    secretsRead: true,
    fileReadable: (file) => fs.statSync(path.resolve(dir, file), { throwIfNoEntry: false })?.isFile() === true,
  };
}

function loadCase(name: string): LoadedCase {
  const dir = path.join(CORPUS, name);
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'expect.yaml')
    .sort()
    .map((f) => path.join(dir, f));
  const expectation = readExpectation(fs.readFileSync(path.join(dir, 'expect.yaml'), 'utf8'), `${name}/expect.yaml`);
  const resources: AnyResource[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const r = parseYaml(fs.readFileSync(file, 'utf8'), file);
    resources.push(...r.resources);
    diagnostics.push(...r.diagnostics);
  }
  const secretStore = new SecretStore(dir, (message) => {
    throw new Error(`${name}/secrets: ${message}`);
  });
  secretStore.scan();
  const secrets = secretStore.current();
  const declared = buildSnapshot({ version: name, resources, instances: [], secrets }).proxies;
  const snapshot = buildSnapshot({ version: name, resources, instances: instancesFor(declared), secrets });
  diagnostics.push(...analyze(snapshot, caseEnvironment(dir)));
  return { name, files, expectation, diagnostics, snapshot };
}

function matches(e: ExpectedDiagnostic, d: Diagnostic): boolean {
  if (e.code !== d.code || e.level !== d.level) return false;
  if (e.kind !== d.resource?.kind || e.namespace !== d.resource?.namespace || e.name !== d.resource?.name) return false;
  if (e.field !== undefined && e.field !== d.field) return false;
  if (e.line !== undefined && e.line !== d.position?.line) return false;
  return e.messageIncludes === undefined || `${d.message} ${d.hint ?? ''}`.includes(e.messageIncludes);
}

function describeExpected(e: ExpectedDiagnostic): string {
  const res = e.kind ? ` ${e.kind} ${e.namespace}/${e.name}` : '';
  const extra = [
    e.field,
    e.line !== undefined ? `line ${e.line}` : undefined,
    e.messageIncludes ? `"…${e.messageIncludes}…"` : undefined,
  ];
  return `${e.level} ${e.code}${res} ${extra.filter((x) => x !== undefined).join(' ')}`.trimEnd();
}

/** The exact-set comparison, as a readable diff: "+" found but not expected, "-" expected but not found. */
function diagnosticsDiff(expected: readonly ExpectedDiagnostic[], actual: readonly Diagnostic[]): string[] {
  const root = path.resolve(CORPUS, '..', '..');
  const extra = actual.filter((d) => !expected.some((e) => matches(e, d)));
  const missing = expected.filter((e) => !actual.some((d) => matches(e, d)));
  return [
    ...missing.map((e) => `- ${describeExpected(e)}`),
    ...extra.map(
      (d) =>
        `+ ${formatDiagnostic({ ...d, hint: undefined })
          .split(root + path.sep)
          .join('')}`,
    ),
  ];
}

function proxyFor(c: LoadedCase, ref: ProxyRef): NodeIdentity {
  const inst = c.snapshot.instances.find(
    (i) => i.type === ref.type && i.name === ref.name && i.namespace === ref.namespace,
  );
  const known = c.snapshot.instances.map((i) => `${i.type} ${i.name}.${i.namespace}`).join(', ');
  assert.ok(inst, `no ${ref.type} ${ref.name}.${ref.namespace} in this case (proxies: ${known})`);
  return inst;
}

function configFor(c: LoadedCase, ref: ProxyRef, cache: Map<string, ProxyConfig>): ProxyConfig {
  const key = `${ref.type}/${ref.namespace}/${ref.name}`;
  let cfg = cache.get(key);
  if (!cfg) cache.set(key, (cfg = translate(proxyFor(c, ref), c.snapshot)));
  return cfg;
}

function compiledFor(
  c: LoadedCase,
  ref: ProxyRef,
  cache: Map<string, ProxyConfig>,
  compiled: Map<string, CompiledConfig>,
) {
  const key = `${ref.type}/${ref.namespace}/${ref.name}`;
  let cc = compiled.get(key);
  if (!cc)
    compiled.set(
      key,
      (cc = compileConfig(
        configFor(c, ref, cache),
        () => 0,
        () => 0,
      )),
    );
  return cc;
}

/**
 * The filter chain a connection gets, chosen by the data plane's own chain table with the facts it would know:
 * a sidecar's CONNECT names the destination and port, and the first bytes are read only when the choice depends
 * on them; a gateway port knows only the first bytes.
 */
function connectionOutcome(config: CompiledConfig, conn: ConnectionCase, sidecar: boolean): ExpectedConnectionOutcome {
  const listener = [...config.listeners.values()].find((l) =>
    sidecar ? l.kind === 'sidecar-outbound' : l.kind !== 'sidecar-outbound' && l.port === conn.port,
  );
  assert.ok(listener, `no listener for port ${conn.port}`);
  if (listener.kind === 'gateway-http') return { outcome: 'http', routeConfig: listener.routeConfigName };
  const known: ConnectionFacts = sidecar
    ? { destinationPort: conn.port, ...(conn.host ? { destination: conn.host } : {}) }
    : {};
  const firstBytes: ConnectionFacts =
    conn.sni !== undefined ? { transport: 'tls', serverName: conn.sni } : { transport: 'raw_buffer' };
  const facts = listener.chains.needsInspection(known) ? { ...known, ...firstBytes } : known;
  const chain = listener.chains.select(facts);
  if (!chain) return { outcome: 'closed' };
  const tlsFailure = chain.tls && !chain.tls.ok ? { tlsFailure: chain.tls.reason } : {};
  return chain.filter.kind === 'http'
    ? { outcome: 'http', chain: chain.name, routeConfig: chain.filter.routeConfigName, ...tlsFailure }
    : { outcome: 'tcp-proxy', chain: chain.name, cluster: chain.filter.pickCluster().cluster, ...tlsFailure };
}

const OUTCOME_FIELDS: Record<keyof ExpectedOutcome, (r: RouteDecision) => unknown> = {
  outcome: (r) => r.outcome,
  status: (r) => r.status,
  flags: (r) => r.responseFlags,
  details: (r) => r.details,
  listener: (r) => r.listener,
  routeConfig: (r) => r.routeConfig,
  vhost: (r) => r.virtualHost,
  route: (r) => r.route,
  cluster: (r) => r.cluster,
  upstream: (r) => r.upstream,
};

/**
 * A check marked pending is reported as skipped with its reason. It is still run, so that a pending mark that has
 * gone stale says so in the skip reason instead of hiding a check that now holds.
 */
function check(title: string, pending: string | undefined, body: () => void): void {
  if (pending === undefined) {
    it(title, body);
    return;
  }
  let holds = true;
  try {
    body();
  } catch {
    holds = false;
  }
  it(title, { skip: holds ? `${pending} (holds now: remove the pending mark)` : pending }, () => {});
}

function fromLabel(ref: ProxyRef): string {
  return `${ref.type === 'router' ? 'gateway' : 'sidecar'} ${ref.name}.${ref.namespace}`;
}

for (const name of caseNames()) {
  describe(`corpus ${name}`, () => {
    const c = loadCase(name);
    const exp = c.expectation;
    const configs = new Map<string, ProxyConfig>();
    const compiled = new Map<string, CompiledConfig>();

    it('every finding points into the case files', () => {
      for (const d of c.diagnostics) {
        const pos = d.position;
        assert.ok(pos, `no position: ${formatDiagnostic(d)}`);
        assert.ok(
          c.files.some((f) => pos.file.endsWith(path.join(name, path.basename(f)))),
          `position outside the case: ${formatDiagnostic(d)}`,
        );
        assert.ok(pos.line >= 1, `line ${pos.line}: ${formatDiagnostic(d)}`);
      }
    });

    it('a config shared by proxies with the same translation key, retargeted, is what translate gives each', () => {
      for (const proxy of instancesFor(c.snapshot.proxies)) {
        // Another replica: its own address, id and service account; a sidecar's workload name differs too.
        const ip = '10.9.9.9';
        const name = proxy.type === 'router' ? proxy.name : `${proxy.name}-twin`;
        const twin: NodeIdentity = {
          ...proxy,
          ip,
          name,
          id: nodeId(proxy.type, ip, name, proxy.namespace),
          serviceAccount: `${proxy.serviceAccount}-twin`,
        };
        assert.equal(translationKey(twin), translationKey(proxy));
        const shared = translate(twin, c.snapshot);
        assert.deepEqual(retarget(shared, proxy), translate(proxy, c.snapshot), `${proxy.id}`);
      }
    });

    check('findings are exactly the expected set', exp.pending, () => {
      const diff = diagnosticsDiff(exp.diagnostics, c.diagnostics);
      assert.ok(diff.length === 0, `findings differ from ${name}/expect.yaml:\n${diff.join('\n')}`);
    });

    exp.requests.forEach((req, i) => {
      const title = `request ${i + 1}: ${fromLabel(req.from)} -> ${req.method ?? 'GET'} ${req.host}:${req.port}${req.path ?? '/'}`;
      check(title, req.pending, () => {
        const cfg = configFor(c, req.from, configs);
        const result = explainRequest(cfg, {
          port: req.port,
          host: req.host,
          ...(req.path !== undefined ? { path: req.path } : {}),
          ...(req.method !== undefined ? { method: req.method } : {}),
          ...(req.headers !== undefined ? { headers: req.headers } : {}),
        });
        const keys = Object.keys(req.expect) as (keyof ExpectedOutcome)[];
        const got = Object.fromEntries(keys.map((k) => [k, OUTCOME_FIELDS[k](result)]));
        assert.deepEqual(got, { ...req.expect }, `full result: ${JSON.stringify(result)}`);
      });
    });

    exp.connections.forEach((conn, i) => {
      const to = conn.host !== undefined ? `${conn.host}:${conn.port}` : `port ${conn.port}`;
      const title = `connection ${i + 1}: ${fromLabel(conn.from)} -> ${to}${conn.sni !== undefined ? ` (SNI ${conn.sni})` : ''}`;
      check(title, conn.pending, () => {
        const got = connectionOutcome(compiledFor(c, conn.from, configs, compiled), conn, conn.from.type === 'sidecar');
        const keys = Object.keys(conn.expect) as (keyof ExpectedConnectionOutcome)[];
        const picked = Object.fromEntries(keys.map((k) => [k, got[k]]));
        if (conn.expect.tlsFailure !== undefined && got.tlsFailure?.includes(conn.expect.tlsFailure))
          picked.tlsFailure = conn.expect.tlsFailure;
        assert.deepEqual(picked, { ...conn.expect }, `full result: ${JSON.stringify(got)}`);
      });
    });

    exp.clusters.forEach((cl, i) => {
      check(`cluster ${i + 1}: ${fromLabel(cl.from)} has ${cl.name}`, cl.pending, () => {
        const cfg = configFor(c, cl.from, configs);
        const found = cfg.clusters.find((x) => x.name === cl.name);
        assert.ok(found, `no cluster ${cl.name}; clusters: ${cfg.clusters.map((x) => x.name).join(', ')}`);
        if (cl.type !== undefined) assert.equal(found.type, cl.type);
        if (cl.endpoints !== undefined)
          assert.deepEqual(
            found.endpoints.map((e) => ({ address: e.address, port: e.port })),
            cl.endpoints,
          );
        if (cl.tls !== undefined) assert.equal(found.tls?.mode ?? 'none', cl.tls);
        if (cl.tlsFailure !== undefined) {
          const tls = compiledFor(c, cl.from, configs, compiled).clusters.get(cl.name)?.tls;
          const reason = tls && !tls.ok ? tls.reason : '(none: the TLS is set up)';
          assert.ok(reason.includes(cl.tlsFailure), `TLS failure: ${reason}`);
        }
      });
    });
  });
}
