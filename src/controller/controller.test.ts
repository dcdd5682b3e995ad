import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { eventually } from '../../test/helpers/eventually.js';
import { DiscoveryClient, type DiscoveryEvent } from '../distribution/index.js';
import { nodeId, type NodeIdentity, type ProxyConfig } from '../proxy-config/types.js';
import { loadOrCreateTokens } from './credentials.js';
import { serve } from './testing/serve.js';
import { Controller } from './controller.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

const SE = `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: httpbin
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleep
spec:
  selector: {matchLabels: {app: sleep}}
  template:
    metadata: {labels: {app: sleep}}
    spec:
      serviceAccountName: sleep
      containers: [{name: sleep, image: curl}]
`;

// Only the sleep sidecar is declared: the default egress gateway is switched off.
const NO_GATEWAYS = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: no-gateways, namespace: istio-system}
spec:
  components:
    egressGateways:
    - name: istio-egressgateway
      enabled: false
`;

const node: NodeIdentity = {
  id: nodeId('sidecar', '127.0.0.1', 'sleep', 'default'),
  type: 'sidecar',
  name: 'sleep',
  namespace: 'default',
  ip: '127.0.0.1',
  labels: { app: 'sleep' },
  serviceAccount: 'sleep',
};

const proxyToken = (dir: string): string => loadOrCreateTokens(dir).proxy;

async function setup(): Promise<{ controller: Controller; url: string; dir: string; close: () => Promise<void> }> {
  const dir = tempDir('ctl');
  fs.writeFileSync(path.join(dir, 'sleep.yaml'), DEPLOYMENT);
  fs.writeFileSync(path.join(dir, 'mesh.yaml'), NO_GATEWAYS);
  const controller = new Controller(dir);
  await controller.start();
  const { admin } = await serve(controller);
  return {
    controller,
    url: admin.url,
    dir,
    close: async () => {
      controller.stop();
      await admin.close();
    },
  };
}

function hasVhost(config: ProxyConfig, name: string): boolean {
  return config.routeConfigs.some((rc) => rc.virtualHosts.some((v) => v.name === name));
}

test('a proxy connects, gets its config, ACKs; apply --wait semantics follow the ACKs', async () => {
  const { controller, url, dir, close } = await setup();
  const configs: ProxyConfig[] = [];
  const client = new DiscoveryClient({
    controller: url,
    token: proxyToken(dir),
    node,
    apply: async (config) => {
      configs.push(config);
      return { ok: true };
    },
  });
  client.start();
  try {
    const first = await controller.waitForSync(controller.snapshot.version, 5_000);
    assert.equal(first.ok, true, JSON.stringify(first.lagging));

    const applied = await controller.apply([{ name: 'se.yaml', content: SE }]);
    assert.equal(applied.ok, true, JSON.stringify(applied.diagnostics));
    assert.deepEqual(
      applied.changes.map((c) => `${c.kind}/${c.name}:${c.action}`),
      ['ServiceEntry/httpbin:created'],
    );
    const synced = await controller.waitForSync(applied.version, 5_000);
    assert.equal(synced.ok, true);
    assert.ok(hasVhost(configs.at(-1)!, 'httpbin.org:80'), 'the new host reached the proxy');
    assert.equal(controller.status().proxies.find((p) => p.name === 'sleep')?.synced, true);

    const again = await controller.apply([{ name: 'se.yaml', content: SE }]);
    assert.deepEqual(
      again.changes.map((c) => c.action),
      ['unchanged'],
    );
    assert.equal(again.version, applied.version, 'an unchanged apply makes no new version');
  } finally {
    client.close();
    await close();
  }
});

test('a NACK is reported by waitForSync with the proxy and its reason', async () => {
  const { controller, url, dir, close } = await setup();
  let reject = false;
  const client = new DiscoveryClient({
    controller: url,
    token: proxyToken(dir),
    node,
    apply: async () => (reject ? { ok: false, error: 'listener 0.0.0.0_8080: address in use' } : { ok: true }),
  });
  client.start();
  try {
    assert.equal((await controller.waitForSync(controller.snapshot.version, 5_000)).ok, true);
    reject = true;
    const applied = await controller.apply([{ name: 'se.yaml', content: SE }]);
    const result = await controller.waitForSync(applied.version, 5_000);
    assert.equal(result.ok, false);
    assert.equal(result.lagging[0]?.name, 'sleep');
    assert.match(result.lagging[0]?.nack?.error ?? '', /address in use/);
  } finally {
    client.close();
    await close();
  }
});

test('a rejected apply changes nothing, on disk or in force', async () => {
  const { controller, dir, close } = await setup();
  try {
    const before = fs.readdirSync(dir).sort();
    const version = controller.snapshot.version;
    const bad = SE.replace('  hosts: [httpbin.org]\n', '');
    const result = await controller.apply([
      { name: 'ok.yaml', content: SE.replace('httpbin', 'other').replace('httpbin.org', 'other.org') },
      { name: 'bad.yaml', content: bad },
    ]);
    assert.equal(result.ok, false);
    assert.ok(result.diagnostics.some((d) => d.level === 'error' && d.position?.file === 'bad.yaml'));
    assert.deepEqual(fs.readdirSync(dir).sort(), before);
    assert.equal(controller.snapshot.version, version);
    assert.equal(controller.resources().filter((r) => r.kind === 'ServiceEntry').length, 0);
  } finally {
    await close();
  }
});

test('a proxy keeps its config while the controller is away and resyncs when it is back', async () => {
  const dir = tempDir('ctl');
  fs.writeFileSync(path.join(dir, 'se.yaml'), SE);
  fs.writeFileSync(path.join(dir, 'sleep.yaml'), DEPLOYMENT);
  fs.writeFileSync(path.join(dir, 'mesh.yaml'), NO_GATEWAYS);
  let controller = new Controller(dir);
  await controller.start();
  let { admin } = await serve(controller);
  const port = Number(new URL(admin.url).port);
  const events: DiscoveryEvent['type'][] = [];
  let applied = 0;
  const client = new DiscoveryClient({
    controller: admin.url,
    token: proxyToken(dir),
    node,
    apply: async () => {
      applied += 1;
      return { ok: true };
    },
    onEvent: (e) => events.push(e.type),
  });
  client.start();
  try {
    assert.equal((await controller.waitForSync(controller.snapshot.version, 5_000)).ok, true);
    const appliedBefore = applied;
    controller.stop();
    await admin.close();
    await waitFor(() => events.includes('disconnected'));
    controller = new Controller(dir);
    await controller.start();
    ({ admin } = await serve(controller, port));
    assert.equal((await controller.waitForSync(controller.snapshot.version, 10_000)).ok, true);
    assert.ok(applied > appliedBefore, 'the proxy was pushed again after reconnecting');
  } finally {
    client.close();
    controller.stop();
    await admin.close();
  }
});

const waitFor = (cond: () => boolean, timeoutMs = 5_000): Promise<true> =>
  eventually(() => (cond() ? true : undefined), timeoutMs, 'condition');

test('an apply that breaks another resource is refused, naming both', async () => {
  const { controller, close } = await setup();
  try {
    const walkthrough = `${SE.replace('httpbin', 'aliyun').replace('httpbin.org', 'aliyun.com')}---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: egress-gw}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [aliyun.com]}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: egressgateway-vs}
spec:
  hosts: [aliyun.com]
  gateways: [egress-gw]
  http:
  - match: [{gateways: [egress-gw], port: 80}]
    route: [{destination: {host: aliyun.com, port: {number: 80}}}]
`;
    // The gateway must exist for the Gateway to bind: declare it.
    const gw = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: no-gateways, namespace: istio-system}
spec:
  components:
    egressGateways: [{name: istio-egressgateway, enabled: true}]
`;
    const ok = await controller.apply([
      { name: 'gw.yaml', content: gw },
      { name: 'walkthrough.yaml', content: walkthrough },
    ]);
    assert.equal(ok.ok, true, JSON.stringify(ok.diagnostics));
    // The same ServiceEntry with its resolution misspelt: NONE behind the gateway.
    const typo = SE.replace('httpbin', 'aliyun')
      .replace('httpbin.org', 'aliyun.com')
      .replace('resolution: DNS', 'resolutoin: DNS');
    const refused = await controller.apply([{ name: 'typo.yaml', content: typo }]);
    assert.equal(refused.ok, false);
    assert.ok(
      refused.diagnostics.some((d) => d.code === 'TG0004' && d.position?.file === 'typo.yaml'),
      'the typo is named',
    );
    assert.ok(
      refused.diagnostics.some((d) => d.code === 'TG1002' && d.resource?.name === 'egressgateway-vs'),
      'and what it breaks',
    );
    const se = controller.resources().find((r) => r.kind === 'ServiceEntry');
    assert.equal(se?.kind === 'ServiceEntry' && se.spec.resolution, 'DNS', 'the ServiceEntry in force is unchanged');
  } finally {
    await close();
  }
});

test('a credentialName is checked against the secrets folder as it is at apply time, not at the last poll', async () => {
  const { controller, dir, close } = await setup();
  try {
    const originate = `${SE}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin-tls}
spec:
  host: httpbin.org
  trafficPolicy: {tls: {mode: MUTUAL, credentialName: httpbin-client}}
`;
    const refused = await controller.apply([{ name: 'tls.yaml', content: originate }]);
    assert.equal(refused.ok, false);
    const missing = refused.diagnostics.find((d) => d.code === 'TG1014');
    assert.match(missing?.message ?? '', /sidecar sleep\.default\) read it from namespace default/);
    assert.match(missing?.message ?? '', /no secrets\/default\/httpbin-client\//);

    const folder = path.join(dir, 'secrets', 'default', 'httpbin-client');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'tls.crt'), 'certificate');
    fs.writeFileSync(path.join(folder, 'tls.key'), 'key');
    const applied = await controller.apply([{ name: 'tls.yaml', content: originate }]);
    assert.equal(applied.ok, true, JSON.stringify(applied.diagnostics));
    assert.ok(controller.snapshot.secrets.has('default/httpbin-client'), 'the configuration in force has the secret');

    const unreadable = originate.replace(
      '{tls: {mode: MUTUAL, credentialName: httpbin-client}}',
      `{tls: {mode: SIMPLE, caCertificates: ${path.join(dir, 'no-such-ca.pem')}}}`,
    );
    assert.deepEqual(
      controller.analyzeWith([{ name: 'tls.yaml', content: unreadable }]).map((d) => [d.code, d.field]),
      [['TG1016', 'spec.trafficPolicy.tls.caCertificates']],
    );
  } finally {
    await close();
  }
});

test('names that would collide on disk are refused before anything is written', async () => {
  const { controller, dir, close } = await setup();
  try {
    const before = fs.readdirSync(dir).sort();
    for (const [name, namespace] of [
      ['x/y', 'default'],
      ['x_y', 'default'],
      ['c', 'a.b'],
    ]) {
      const text = SE.replace('name: httpbin', `name: ${JSON.stringify(name)}\n  namespace: ${namespace}`);
      const result = await controller.apply([{ name: 'se.yaml', content: text }]);
      assert.equal(result.ok, false, `${namespace}/${name}`);
      assert.ok(result.diagnostics.some((d) => d.code === 'TG0012' || d.code === 'TG0013'));
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), before);
  } finally {
    await close();
  }
});

test('more Deployments than pod addresses: apply refuses, naming each that does not fit and the limit', async () => {
  const dir = tempDir('ctl');
  const controller = new Controller(dir, { proxyCapacity: { limit: 3, setting: '--pod-cidr 127.0.100.0/30' } });
  await controller.start();
  const deployment = (name: string) => DEPLOYMENT.replace(/sleep/g, name);
  try {
    // The default egress gateway and two sidecars fill the three addresses.
    const fits = await controller.apply([{ name: 'a.yaml', content: `${deployment('a')}---\n${deployment('b')}` }]);
    assert.equal(fits.ok, true, JSON.stringify(fits.diagnostics));
    for (const dryRun of [true, false]) {
      const refused = await controller.apply([{ name: 'c.yaml', content: deployment('c') }], dryRun);
      assert.equal(refused.ok, false);
      const d = refused.diagnostics.find((x) => x.code === 'TG0307');
      assert.equal(d?.resource?.name, 'c');
      assert.equal(d?.position?.file, 'c.yaml');
      assert.match(d?.message ?? '', /--pod-cidr 127\.0\.100\.0\/30 has 3 and the mesh declares 4 proxies/);
      assert.match(d?.hint ?? '', /wider --pod-cidr/);
    }
    assert.equal(controller.snapshot.proxies.length, 3, 'nothing of the refused apply is in force');
    // A directory edited by hand past the limit is reported, not refused (run what fits).
    fs.writeFileSync(path.join(dir, 'extra.yaml'), `${deployment('d')}---\n${deployment('e')}`);
    await controller.reload();
    const over = controller.diagnostics().filter((x) => x.code === 'TG0307');
    assert.deepEqual(
      over.map((x) => x.resource?.name),
      ['d', 'e'],
      'the gateway and the first sidecars keep their places',
    );
  } finally {
    controller.stop();
  }
});

test('a proxy that reconnects holding a higher version than ours moves the count past it', async () => {
  const { controller, url, dir, close } = await setup();
  const seen: string[] = [];
  const client = new DiscoveryClient({
    controller: url,
    token: proxyToken(dir),
    node,
    currentVersion: () => '1000',
    apply: async (config) => {
      seen.push(config.version);
      return { ok: true };
    },
  });
  client.start();
  try {
    assert.equal((await controller.waitForSync('1001', 5_000)).ok, true);
    assert.ok(Number(seen[0]) > 1000, `pushed ${seen[0]}`);
  } finally {
    client.close();
    await close();
  }
});

test('lines added above a resource: its findings name where it is now, and no new version is pushed', async () => {
  const dir = tempDir('ctl');
  const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: via-missing}
spec:
  hosts: [httpbin.org]
  gateways: [missing-gw]
  http:
  - route: [{destination: {host: httpbin.org}}]
`;
  fs.writeFileSync(path.join(dir, 'vs.yaml'), vs);
  const controller = new Controller(dir);
  await controller.start();
  const finding = () => controller.diagnostics().find((d) => d.message.includes('gateway default/missing-gw'));
  try {
    const before = finding();
    assert.ok(before?.position, 'the missing gateway is reported with its position');
    const version = controller.snapshot.version;
    fs.writeFileSync(path.join(dir, 'vs.yaml'), `# egress for httpbin\n\n\n${vs}`);
    await controller.reload();
    assert.equal(finding()?.position?.line, before.position.line + 3);
    assert.equal(controller.snapshot.version, version, 'the same resources: nothing new to push');
  } finally {
    controller.stop();
  }
});
