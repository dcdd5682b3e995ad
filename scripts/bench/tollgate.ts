// tollgate as users run it in the separate-process layout: a controller reading a config directory, then
// `tollgate proxy` sidecars and gateways, each with its access log on (/dev/stdout, sent to a file here).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { documents, httpServiceEntry, SLEEP_DEPLOYMENT } from '../../test/helpers/fixtures.js';
import { DIRECT_HOST, PROXY_NODE_ARGS, type Started, stopChild, UPSTREAM } from './peers.js';

export const EGRESS_HOST = 'egress.bench.internal';

const MESH = documents(
  `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    accessLogFile: /dev/stdout
`,
  `apiVersion: v1
kind: ServiceAccount
metadata: {name: sleep}
`,
  SLEEP_DEPLOYMENT,
);

function serviceEntry(name: string, host: string): string {
  return httpServiceEntry(name, host, UPSTREAM.port);
}

/** The seed's path: the sidecar sends EGRESS_HOST to the egress gateway, which sends it on. */
const EGRESS_ROUTE = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress-gw}
spec:
  selector: {istio: egressgateway}
  servers: [{hosts: [${EGRESS_HOST}], port: {name: http, number: 80, protocol: HTTP}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: egress-vs}
spec:
  hosts: [${EGRESS_HOST}]
  gateways: [egress-gw, mesh]
  http:
  - match: [{gateways: [mesh], port: ${UPSTREAM.port}}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}}]
  - match: [{gateways: [egress-gw], port: 80}]
    route: [{destination: {host: ${EGRESS_HOST}, port: {number: ${UPSTREAM.port}}}}]
`;

/** The bench's mesh: one ServiceEntry reached directly, one through the egress gateway. */
export function writeMainMesh(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
  fs.writeFileSync(path.join(dir, 'direct.yaml'), serviceEntry('direct', DIRECT_HOST));
  fs.writeFileSync(path.join(dir, 'egress.yaml'), `${serviceEntry('egress', EGRESS_HOST)}---\n${EGRESS_ROUTE}`);
}

export function scaleHost(i: number): string {
  return `svc-${i}.bench.internal`;
}

/** A mesh of `n` ServiceEntries, one host each. */
export function writeScaleMesh(dir: string, n: number): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
  const docs: string[] = [];
  for (let i = 0; i < n; i++) docs.push(serviceEntry(`svc-${i}`, scaleHost(i)));
  fs.writeFileSync(path.join(dir, 'services.yaml'), docs.join('---\n'));
}

export interface TollgateBuild {
  /** A label for the report: "tollgate" or "tollgate (baseline)". */
  readonly label: string;
  /** Its bin/tollgate.js. */
  readonly bin: string;
}

function waitForLine(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms:\n${seen}`)), ms);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child[stream]!.off('data', onData);
        child[stream]!.resume();
        resolve();
      }
    };
    child[stream]!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited (${code}) before ${pattern}:\n${seen}`)));
  });
}

export interface ControllerProcess {
  readonly url: string;
  readonly tokenFile: string;
  readonly configDir: string;
  readonly child: ChildProcess;
}

export async function startController(
  build: TollgateBuild,
  configDir: string,
  listen: string,
): Promise<ControllerProcess> {
  const child = spawn(process.execPath, [build.bin, 'controller', '--config-dir', configDir, '--listen', listen], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.resume();
  await waitForLine(child, 'stdout', /controller \| ready/, 120_000);
  return {
    url: `http://${listen}`,
    tokenFile: path.join(configDir, '.tollgate', 'proxy-token'),
    configDir,
    child,
  };
}

export interface ProxySpec {
  readonly kind: 'sidecar' | 'gateway';
  readonly ip: string;
  readonly connectTo: readonly string[];
  readonly concurrency?: number;
}

/** A `tollgate proxy` process; its standard output (the access log) goes to a file, as a user's would. */
export async function startProxy(
  build: TollgateBuild,
  controller: ControllerProcess,
  spec: ProxySpec,
  logFile: string,
): Promise<ChildProcess> {
  const args = [build.bin, '--controller', controller.url, 'proxy', spec.kind, '--ip', spec.ip];
  if (spec.kind === 'sidecar') args.push('--name', 'sleep', '--label', 'app=sleep', '--service-account', 'sleep');
  else {
    args.push('--name', 'istio-egressgateway', '-n', 'istio-system');
    args.push('--label', 'istio=egressgateway', '--label', 'app=istio-egressgateway');
  }
  for (const c of spec.connectTo) args.push('--connect-to', c);
  args.push('--token-file', controller.tokenFile);
  if (spec.concurrency !== undefined) args.push('--concurrency', String(spec.concurrency));
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...PROXY_NODE_ARGS, ...args], { stdio: ['ignore', out, 'pipe'] });
  fs.closeSync(out);
  await waitForLine(child, 'stderr', /access log at/, 60_000);
  return child;
}

export function tollgateTarget(
  name: string,
  pids: readonly number[],
  ip: string,
  host: string,
  children: readonly ChildProcess[],
): Started {
  return {
    name,
    pids,
    target: {
      host: ip,
      port: 15001,
      requestTarget: `http://${host}:${UPSTREAM.port}/`,
      authority: `${host}:${UPSTREAM.port}`,
    },
    stop: () => {
      for (const c of children) stopChild(c);
    },
  };
}
