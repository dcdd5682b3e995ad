// The components as separate processes — `tollgate controller`, `tollgate proxy gateway`, `tollgate proxy sidecar` —
// over the same discovery protocol `up` uses in-process. Proxies keep serving their last good config while the
// controller is away, and resync when it is back.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  documents,
  egressGateway,
  httpServiceEntry,
  REGISTRY_ONLY,
  SLEEP_DEPLOYMENT,
  viaEgressGateway,
} from '../helpers/fixtures.js';
import {
  BIN,
  eventually,
  prefixedPods,
  run,
  startController,
  startDnsmasq,
  startRedirectSite,
  tempDir,
  tollgate,
} from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SUBNET = `127.${octet()}.${octet()}`;
const SITE_IP = `${SUBNET}.10`;
const SLEEP_IP = `${SUBNET}.2`;

const CONFIG = documents(
  SLEEP_DEPLOYMENT,
  REGISTRY_ONLY,
  httpServiceEntry('httpbin', 'httpbin.test', 8000),
  egressGateway('egress', ['httpbin.test']),
  viaEgressGateway('httpbin-via-egress', 'egress', 'httpbin.test', 8000),
);

interface Proc {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function start(args: readonly string[], ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const proc: Proc = {
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return eventually(async () => (ready.test(output) ? proc : undefined), 10_000, `${args.join(' ')} ready: ${output}`);
}

interface Layout {
  readonly url: string;
  readonly configDir: string;
  controller: Proc;
  readonly gateway: Proc;
  readonly sidecar: Proc;
}

/** `tollgate controller` on CONFIG, then a gateway with `gatewayLabels` at SUBNET.1 and the sleep sidecar at .2. */
async function startLayout(dnsServer: string, subnet: string, gatewayLabels: readonly string[]): Promise<Layout> {
  const configDir = tempDir('components');
  fs.writeFileSync(path.join(configDir, 'mesh.yaml'), CONFIG);
  const controller = await startController(configDir);
  const { url } = controller;
  // The proxies join with the bootstrap token the controller created in its config directory.
  const token = path.join(configDir, '.tollgate', 'proxy-token');
  const common = ['--controller', url, 'proxy', '--token-file', token, '--dns-server', dnsServer];
  const labels = gatewayLabels.flatMap((l) => ['--label', l]);
  const gateway = await start(
    [...common, 'gateway', '--name', 'istio-egressgateway', '-n', 'istio-system', '--ip', `${subnet}.1`, ...labels],
    /gateway at/,
  );
  const sidecar = await start(
    [
      ...common,
      'sidecar',
      '--name',
      'sleep',
      '--ip',
      `${subnet}.2`,
      '--label',
      'app=sleep',
      '--service-account',
      'sleep',
    ],
    /sidecar at/,
  );
  return { url, configDir, controller, gateway, sidecar };
}

describe('controller and proxies as separate processes', () => {
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  let site: Awaited<ReturnType<typeof startRedirectSite>>;
  let controller: Proc;
  let gateway: Proc;
  let sidecar: Proc;
  let url: string;
  let configDir: string;
  const ref = () => ({ url, configDir });

  const curl = async (target: string): Promise<number> => {
    const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', target], {
      http_proxy: `http://${SLEEP_IP}:15001`,
    });
    return Number(r.stdout);
  };

  before(async () => {
    dns = await startDnsmasq({ 'httpbin.test': SITE_IP });
    site = await startRedirectSite(SITE_IP, 8000);
    ({ url, configDir, controller, gateway, sidecar } = await startLayout(dns.server, SUBNET, [
      'istio=egressgateway',
      'app=istio-egressgateway',
    ]));
  });

  after(async () => {
    await Promise.all([sidecar?.stop(), gateway?.stop(), controller?.stop()]);
    await site?.close();
    dns?.stop();
  });

  test('the proxies sync and route through the gateway; its stdout carries the access log', async () => {
    await eventually(
      async () => ((await tollgate(['status'], ref())).code === 0 ? true : undefined),
      10_000,
      'in sync',
    );
    assert.equal(await curl('http://httpbin.test:8000/get'), 301);
    assert.equal(await curl('http://unknown.test/'), 502, 'REGISTRY_ONLY blocks what is not registered');
    const line = await eventually(
      async () =>
        gateway
          .output()
          .split('\n')
          .find((l) => l.includes('"upstream_cluster":"outbound|8000||httpbin.test"')),
      5_000,
      'gateway access-log line',
    );
    const log = JSON.parse(line) as Record<string, string>;
    assert.match(log.downstream_remote_address!, new RegExp(`^${SLEEP_IP.replace(/\./g, '\\.')}:`));
    assert.equal(log.upstream_host, `${SITE_IP}:8000`);
    assert.equal(log.path, '/get');
  });

  test('tollgate logs reads a proxy run on its own, from its pod address', async () => {
    const r = await tollgate(['logs', 'istio-egressgateway', '-n', 'istio-system', '--tail', '1'], ref());
    assert.equal(r.code, 0, r.stderr);
    const log = JSON.parse(r.stdout) as Record<string, string>;
    assert.equal(log.upstream_cluster, 'outbound|8000||httpbin.test');
    const missing = await tollgate(['logs', 'nope', '-n', 'istio-system'], ref());
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: no connected proxy nope in namespace istio-system; connected: /);
    assert.doesNotMatch(missing.stderr, /no such endpoint/);
  });

  test('a second gateway replica (--pod): both serve, logs merges them by pod; SIGKILLed, nothing fails', async () => {
    const token = path.join(configDir, '.tollgate', 'proxy-token');
    const second = await start(
      [
        '--controller',
        url,
        'proxy',
        '--token-file',
        token,
        '--dns-server',
        dns.server,
        'gateway',
        '--name',
        'istio-egressgateway',
        '-n',
        'istio-system',
        '--pod',
        'istio-egressgateway-b',
        '--ip',
        `${SUBNET}.3`,
        '--label',
        'istio=egressgateway',
        '--label',
        'app=istio-egressgateway',
      ],
      /gateway at/,
    );
    try {
      const replicas = async () =>
        (await tollgate(['status'], ref())).stdout
          .split('\n')
          .filter((l) => /^istio-egressgateway\.istio-system\s.*SYNCED.*Ready$/.test(l));
      await eventually(async () => ((await replicas()).length === 2 ? true : undefined), 10_000, 'two ready replicas');
      await eventually(
        async () => {
          assert.equal(await curl('http://httpbin.test:8000/replicas'), 301);
          return second.output().includes('"path":"/replicas"') ? true : undefined;
        },
        10_000,
        'the second replica serves',
      );
      const merged = await tollgate(['logs', 'istio-egressgateway', '-n', 'istio-system', '--tail', '1'], ref());
      assert.deepEqual(prefixedPods(merged.stdout), ['istio-egressgateway', 'istio-egressgateway-b']);
      const gone = new Promise((resolve) => second.child.once('exit', resolve));
      second.child.kill('SIGKILL');
      await gone;
      for (let i = 0; i < 10; i++) assert.equal(await curl(`http://httpbin.test:8000/after-kill-${i}`), 301);
      await eventually(async () => ((await replicas()).length === 1 ? true : undefined), 10_000, 'one replica left');
    } finally {
      if (second.child.exitCode === null && second.child.signalCode === null) await second.stop();
    }
  });

  test('a WebSocket upgrade crosses sidecar and gateway, and echoes', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        host: SLEEP_IP,
        port: 15001,
        path: 'http://httpbin.test:8000/ws',
        agent: false,
        headers: { connection: 'Upgrade', upgrade: 'websocket' },
      });
      req.on('upgrade', (_res, socket) => {
        socket.write('ping');
        socket.once('data', (d: Buffer) => {
          socket.end();
          resolve(d.toString());
        });
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(echoed, 'echo:ping');
    const line = await eventually(
      async () =>
        gateway
          .output()
          .split('\n')
          .find((l) => l.includes('"path":"/ws"')),
      5_000,
      'gateway log line for the tunnel',
    );
    const log = JSON.parse(line) as Record<string, unknown>;
    assert.equal(log.response_code, 101);
    assert.equal(log.upstream_cluster, 'outbound|8000||httpbin.test');
  });

  test('with the controller away, proxies keep their last good config; they resync when it is back', async () => {
    await controller.stop();
    assert.equal(await curl('http://httpbin.test:8000/'), 301);
    assert.equal(await curl('http://unknown.test/'), 502);
    const status = await tollgate(['status'], ref());
    assert.notEqual(status.code, 0);
    assert.match(status.stderr, /cannot reach the controller/);

    controller = await startController(configDir, new URL(url).host);
    await eventually(
      async () => ((await tollgate(['status'], ref())).code === 0 ? true : undefined),
      15_000,
      'resynced',
    );
    const applied = await tollgate(['delete', '--wait', 'virtualservice', 'httpbin-via-egress'], ref());
    assert.equal(applied.code, 0, applied.stderr);
    const before = gateway.output().length;
    assert.equal(await curl('http://httpbin.test:8000/direct'), 301);
    // The sidecar logs a request once it is over; had it gone through the gateway, the gateway's line came first.
    const line = await eventually(
      async () =>
        sidecar
          .output()
          .split('\n')
          .find((l) => l.includes('"path":"/direct"')),
      5_000,
      "the sidecar's line for /direct",
    );
    assert.equal((JSON.parse(line) as Record<string, string>).upstream_cluster, 'outbound|8000||httpbin.test');
    assert.doesNotMatch(gateway.output().slice(before), /"path":"\/direct"/, 'no longer through the gateway');
  });
});

describe('a gateway proxy run on its own without every label of its Service', () => {
  let controller: Proc;
  let gateway: Proc;
  let sidecar: Proc;
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  let url: string;
  let configDir: string;
  const ref = () => ({ url, configDir });
  const subnet = `127.${octet()}.${octet()}`;

  before(async () => {
    dns = await startDnsmasq({ 'httpbin.test': `${subnet}.10` });
    // The Gateway's selector label only: it gets the Gateway's config, yet the Service selects app= too.
    ({ url, configDir, controller, gateway, sidecar } = await startLayout(dns.server, subnet, ['istio=egressgateway']));
  });

  after(async () => {
    await Promise.all([sidecar?.stop(), gateway?.stop(), controller?.stop()]);
    dns?.stop();
  });

  test('traffic gets 503 UH while status is SYNCED; status and analyze name the missing label', async () => {
    await eventually(
      async () => ((await tollgate(['status'], ref())).code === 0 ? true : undefined),
      10_000,
      'in sync',
    );
    const r = await run(
      'curl',
      ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', 'http://httpbin.test:8000/'],
      {
        http_proxy: `http://${subnet}.2:15001`,
      },
    );
    assert.equal(r.stdout, '503');

    const finding =
      /warning TG1010 Gateway default\/egress spec\.selector: gateway proxy istio-egressgateway\.istio-system \(labels istio=egressgateway\) takes this Gateway's config but is not an endpoint of Service istio-egressgateway\.istio-system \(selector istio=egressgateway,app=istio-egressgateway\): requests routed to that Service get 503 UH\n\s+hint: Restart the proxy with the Service's labels: --label app=istio-egressgateway/;
    const status = await tollgate(['status'], ref());
    assert.equal(status.code, 0, 'every proxy is in sync');
    assert.match(status.stdout, /istio-egressgateway\.istio-system\s+gateway\s+\S+\s+\d+\s+SYNCED/);
    assert.match(status.stderr, finding);
    const analyze = await tollgate(['analyze'], ref());
    assert.match(analyze.stdout, finding);
  });
});
