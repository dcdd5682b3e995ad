// Push ordering, readiness and drain, held on the controller itself with in-memory streams: every push is recorded
// and each proxy ACKs when the test says so, so the order of events is the test's to observe.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../../test/helpers/eventually.js';
import { nodeId, type NodeIdentity, type ProxyConfig } from '../proxy-config/types.js';
import { Controller } from './controller.js';
import type { ProxyStream } from './proxy-state.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

const EXAMPLES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../examples/aliyun');
const example = (file: string) => ({ name: file, content: fs.readFileSync(path.join(EXAMPLES, file), 'utf8') });
const ROUTE_VIA_GATEWAY = [example('serviceentry.yaml'), example('gateway.yaml'), example('virtualservice.yaml')];

interface Push {
  readonly proxy: string;
  readonly version: string;
  readonly config: ProxyConfig;
}

/** A proxy on an in-memory stream: records what it is sent; ACKs on `ack()` (or at once with `autoAck`). */
class FakeProxy {
  session = '';
  readonly pushes: Push[] = [];

  constructor(
    readonly node: NodeIdentity,
    private readonly controller: Controller,
    private readonly log: Push[],
    public autoAck = true,
  ) {}

  connect(currentVersion?: string): void {
    const stream: ProxyStream = {
      open: (session) => {
        this.session = session;
      },
      send: (version, config) => {
        const push = { proxy: this.node.pod ?? this.node.name, version, config };
        this.pushes.push(push);
        this.log.push(push);
        if (this.autoAck) queueMicrotask(() => this.ack(version));
      },
      close: () => {},
    };
    const result = this.controller.connect(this.node, stream, currentVersion ? { currentVersion } : {});
    assert.ok(result.ok);
  }

  ack(version = this.pushes.at(-1)!.version): void {
    this.controller.ack(this.node.id, this.session, version, true);
  }

  get last(): Push | undefined {
    return this.pushes.at(-1);
  }
}

function identity(type: 'router' | 'sidecar', pod: string, ip: string): NodeIdentity {
  const gateway = type === 'router';
  return {
    id: nodeId(type, ip, pod, gateway ? 'istio-system' : 'default'),
    type,
    name: gateway ? 'istio-egressgateway' : 'sleep',
    pod,
    namespace: gateway ? 'istio-system' : 'default',
    ip,
    labels: gateway ? { istio: 'egressgateway', app: 'istio-egressgateway' } : { app: 'sleep' },
    serviceAccount: gateway ? 'istio-egressgateway-service-account' : 'sleep',
  };
}

/** A sidecar of a workload that no Service selects: an endpoint of nothing. */
function client(pod: string, ip: string): NodeIdentity {
  return { ...identity('sidecar', pod, ip), name: 'client', labels: { app: 'client' }, serviceAccount: 'default' };
}

/** The endpoints of the sleep Service (which selects app=sleep) in a proxy's config. */
function sleepEndpoints(config: ProxyConfig): string[] {
  const cluster = config.clusters.find((c) => c.name === 'outbound|80||sleep.default.svc.cluster.local');
  return (cluster?.endpoints ?? []).map((e) => e.address).sort();
}

async function mesh(ackWaitMs?: number): Promise<{ controller: Controller; log: Push[] }> {
  const dir = tempDir('rollout');
  fs.copyFileSync(path.join(EXAMPLES, 'sleep.yaml'), path.join(dir, 'sleep.yaml'));
  const controller = new Controller(dir, ackWaitMs === undefined ? {} : { ackWaitMs });
  await controller.start();
  return { controller, log: [] };
}

/** A mesh, and one client sidecar (an endpoint of nothing) joined, with its first config. */
async function meshWithOneClient(): Promise<{ controller: Controller; log: Push[]; joined: FakeProxy }> {
  const { controller, log } = await mesh();
  const joined = new FakeProxy(client('client-0', '127.0.1.1'), controller, log);
  joined.connect();
  await eventually(() => joined.last, 2_000, 'the first client has a config');
  return { controller, log, joined };
}

/** The gateway endpoints a sidecar's config lists (the egress gateway Service's cluster). */
function gatewayEndpoints(config: ProxyConfig): string[] {
  const cluster = config.clusters.find(
    (c) => c.name === 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local',
  );
  return (cluster?.endpoints ?? []).map((e) => e.address).sort();
}

/** Where a sidecar's route for aliyun.com:80 goes: the egress gateway, or the site directly. */
function aliyunTo(config: ProxyConfig): string {
  const vhost = config.routeConfigs
    .find((rc) => rc.name === '80')
    ?.virtualHosts.find((v) => v.domains.includes('aliyun.com'));
  const action = vhost?.routes[0]?.action;
  if (action?.kind !== 'cluster') return 'none';
  return action.clusters[0]?.cluster.includes('istio-egressgateway') ? 'gateway' : 'direct';
}

const knowsAliyun = (config: ProxyConfig): boolean =>
  config.routeConfigs.some((rc) => rc.virtualHosts.some((v) => v.domains.includes('aliyun.com')));

describe('rollout: readiness, drain and make before break', () => {
  it('a replica is an endpoint only once it has applied a config; one that already serves (a controller restart) at once', async () => {
    const { controller, log } = await mesh();
    const sidecar = new FakeProxy(identity('sidecar', 'sleep-1', '127.0.0.2'), controller, log);
    sidecar.connect();
    await eventually(() => sidecar.last, 2_000, 'the sidecar has a config');
    const a = new FakeProxy(identity('router', 'gw-a', '127.0.0.11'), controller, log, false);
    a.connect();
    await eventually(() => a.last, 2_000, 'a push to the new replica');
    assert.deepEqual(gatewayEndpoints(controller.configFor('sleep', 'default')!), [], 'not ready: not an endpoint');
    a.autoAck = true;
    a.ack();
    await eventually(
      () => (gatewayEndpoints(sidecar.last!.config).includes('127.0.0.11') ? true : undefined),
      2_000,
      'the sidecar is sent the ready replica',
    );
    const b = new FakeProxy(identity('router', 'gw-b', '127.0.0.12'), controller, log, false);
    b.connect(sidecar.last!.version);
    // No ACK from b: holding a config already, it is an endpoint in the very next snapshot.
    await eventually(
      () => (gatewayEndpoints(controller.configFor('sleep', 'default')!).length === 2 ? true : undefined),
      2_000,
      'the next snapshot has the replica that already serves',
    );
    assert.deepEqual(gatewayEndpoints(controller.configFor('sleep', 'default')!), ['127.0.0.11', '127.0.0.12']);
    controller.stop();
  });

  it('a proxy that is an endpoint of nothing joins with one push, to itself: the others are not pushed', async () => {
    const { controller, log, joined: first } = await meshWithOneClient();
    const version = controller.snapshot.version;
    const joiners = [1, 2, 3, 4, 5].map(
      (i) => new FakeProxy(client(`client-${i}`, `127.0.1.${i + 1}`), controller, log),
    );
    for (const [i, p] of joiners.entries()) {
      p.connect();
      // Apart in time, as replicas of a rollout start: each on its own turn of the loop, ACKing as it applies.
      await eventually(() => p.last, 2_000, `joiner ${i} has a config`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      joiners.map((p) => p.pushes.length),
      [1, 1, 1, 1, 1],
    );
    assert.equal(first.pushes.length, 1, `the first proxy was pushed again: ${first.pushes.map((p) => p.version)}`);
    assert.equal(controller.snapshot.version, version, 'no new snapshot');
    assert.ok(joiners.every((p) => p.last!.version === version));
    const synced = controller.status().proxies.filter((p) => p.pod.startsWith('client-') && p.synced);
    assert.equal(synced.length, 6, 'each has acknowledged the version in force');
    controller.stop();
  });

  it('replicas that a Service selects, ready one after another, reach the other proxies in one push', async () => {
    const { controller, log, joined: observer } = await meshWithOneClient();
    const replicas = [1, 2, 3, 4, 5].map(
      (i) => new FakeProxy(identity('sidecar', `sleep-${i}`, `127.0.2.${i}`), controller, log, false),
    );
    for (const r of replicas) r.connect();
    await eventually(() => (replicas.every((r) => r.last) ? true : undefined), 2_000, 'every replica has a config');
    const before = observer.pushes.length;
    for (const r of replicas) {
      r.autoAck = true;
      r.ack();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const all = ['127.0.2.1', '127.0.2.2', '127.0.2.3', '127.0.2.4', '127.0.2.5'];
    await eventually(
      () => (sleepEndpoints(observer.last!.config).length === all.length ? true : undefined),
      3_000,
      'the observer is sent every ready replica',
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(sleepEndpoints(observer.last!.config), all);
    assert.equal(observer.pushes.length - before, 1, `pushes: ${observer.pushes.map((p) => p.version)}`);
    controller.stop();
  });

  it('endpoint changes that never go still are pushed within a second all the same', async () => {
    const { controller, log, joined: observer } = await meshWithOneClient();
    const replicas = Array.from(
      { length: 24 },
      (_, i) => new FakeProxy(identity('sidecar', `sleep-${i}`, `127.0.2.${i + 1}`), controller, log, false),
    );
    for (const r of replicas) r.connect();
    await eventually(() => (replicas.every((r) => r.last) ? true : undefined), 2_000, 'every replica has a config');
    const start = Date.now();
    const seen: { at: number; endpoints: number }[] = [];
    for (const r of replicas) {
      r.autoAck = true;
      r.ack();
      // Closer together than the debounce's 100 ms, for about 1.5 s in all.
      await new Promise((resolve) => setTimeout(resolve, 60));
      const endpoints = sleepEndpoints(observer.last!.config).length;
      if (endpoints !== seen.at(-1)?.endpoints) seen.push({ at: Date.now() - start, endpoints });
    }
    assert.ok(
      seen.some((s) => s.endpoints > 0 && s.endpoints < replicas.length && s.at < 1_300),
      `the observer's endpoints over time: ${JSON.stringify(seen)}`,
    );
    controller.stop();
  });

  it('drain: the replica leaves the endpoints, and drain resolves only after the others have acknowledged that', async () => {
    const { controller, log } = await mesh();
    const sidecar = new FakeProxy(identity('sidecar', 'sleep-1', '127.0.0.2'), controller, log);
    const a = new FakeProxy(identity('router', 'gw-a', '127.0.0.11'), controller, log);
    const b = new FakeProxy(identity('router', 'gw-b', '127.0.0.12'), controller, log);
    for (const p of [sidecar, a, b]) p.connect();
    await eventually(() => (gatewayEndpoints(sidecar.last!.config).length === 2 ? true : undefined), 2_000);
    sidecar.autoAck = false;
    let drained: string | undefined;
    const draining = controller.drain(b.node.id, b.session, 5_000).then((r) => (drained = r));
    await eventually(() => (gatewayEndpoints(sidecar.last!.config).length === 1 ? true : undefined), 2_000);
    assert.deepEqual(gatewayEndpoints(sidecar.last!.config), ['127.0.0.11']);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drained, undefined, 'not before the sidecar acknowledged');
    sidecar.ack();
    assert.equal(await draining, 'accepted');
    const status = controller.status().proxies.find((p) => p.pod === 'gw-b')!;
    assert.deepEqual([status.ready, status.draining], [false, true]);
    controller.stop();
  });

  it('make before break: the gateways learn a host before any sidecar routes to them, and forget it after', async () => {
    const { controller, log } = await mesh();
    const sidecar = new FakeProxy(identity('sidecar', 'sleep-1', '127.0.0.2'), controller, log);
    const gateway = new FakeProxy(identity('router', 'gw-a', '127.0.0.11'), controller, log);
    sidecar.connect();
    gateway.connect();
    await eventually(() => (gatewayEndpoints(sidecar.last!.config).length === 1 ? true : undefined), 2_000);

    /** A gateway: whether it routes aliyun.com. A sidecar: where it sends aliyun.com. */
    const order = (from: number) =>
      log.slice(from).map((p) => {
        const step = Number(p.version) % 2 === 1 ? 'transition' : 'final';
        return `${p.proxy} ${step} ${p.proxy.startsWith('gw') ? (knowsAliyun(p.config) ? 'aliyun' : '-') : aliyunTo(p.config)}`;
      });

    let from = log.length;
    const applied = await controller.apply(ROUTE_VIA_GATEWAY);
    assert.ok(applied.ok);
    await eventually(() => (gateway.last!.version === applied.version ? true : undefined), 2_000);
    assert.deepEqual(order(from), ['gw-a transition aliyun', 'sleep-1 final gateway', 'gw-a final aliyun']);

    from = log.length;
    const deleted = await controller.delete(
      [],
      ROUTE_VIA_GATEWAY.filter((f) => f.name !== 'serviceentry.yaml'),
    );
    assert.ok(deleted.ok);
    await eventually(() => (gateway.last!.version === deleted.version ? true : undefined), 2_000);
    // The gateway keeps serving aliyun.com (the union) until the sidecar has stopped sending it there.
    assert.deepEqual(order(from), ['gw-a transition aliyun', 'sleep-1 final direct', 'gw-a final -']);
    controller.stop();
  });

  it('a proxy that does not answer slows a rollout down but does not stop it', async () => {
    const { controller, log } = await mesh(200);
    const warnings: string[] = [];
    controller.on('warning', (m: string) => warnings.push(m));
    const sidecar = new FakeProxy(identity('sidecar', 'sleep-1', '127.0.0.2'), controller, log);
    const gateway = new FakeProxy(identity('router', 'gw-a', '127.0.0.11'), controller, log, false);
    gateway.connect('1');
    sidecar.connect();
    const applied = await controller.apply(ROUTE_VIA_GATEWAY);
    await eventually(() => (sidecar.last!.version === applied.version ? true : undefined), 3_000);
    assert.ok(
      warnings.some((w) => /gw-a.* did not acknowledge config \d+ within 200 ms; pushing on/.test(w)),
      warnings.join('\n'),
    );
    controller.stop();
  });
});
