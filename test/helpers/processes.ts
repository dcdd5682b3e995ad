// Real processes for end-to-end tests: the tollgate CLI, `tollgate up`, dnsmasq and curl.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'tollgate.js');
export const EXAMPLES = path.join(ROOT, 'examples', 'aliyun');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
  cwd?: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** A running controller as clients find it: its URL, and the config directory that holds its admin token. */
export interface ControllerRef {
  readonly url: string;
  readonly configDir: string;
}

/** Runs the CLI against `controller`; a bare URL (offline commands, or a controller that is not there) sends no token. */
export function tollgate(args: readonly string[], controller: string | ControllerRef): Promise<RunResult> {
  const ref = typeof controller === 'string' ? { url: controller, configDir: '/nonexistent' } : controller;
  return run(process.execPath, [BIN, ...args], { TOLLGATE_CONTROLLER: ref.url, TOLLGATE_CONFIG_DIR: ref.configDir });
}

export interface UpProcess extends ControllerRef {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `tollgate up` (in `cwd`, by default this process's, with `env` added to this process's environment) and
 * waits for its "ready" line.
 */
const OUTPUT_HEAD = 64 * 1024;
const OUTPUT_KEEP = 4 * 1024 * 1024;

export async function startUp(args: readonly string[], cwd?: string, env: NodeJS.ProcessEnv = {}): Promise<UpProcess> {
  const child = spawn(process.execPath, [BIN, 'up', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
    env: { ...process.env, ...env },
  });
  let output = '';
  // Bounded for long runs (the soak): the start-up lines and the latest few MiB are kept.
  const append = (d: Buffer): void => {
    output += d.toString();
    if (output.length > OUTPUT_KEEP * 2) output = `${output.slice(0, OUTPUT_HEAD)}\n...\n${output.slice(-OUTPUT_KEEP)}`;
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tollgate up did not become ready:\n${output}`)), 20_000);
    const onData = (): void => {
      const m = /controller listening on (http:\/\/[^\s,]+)/.exec(output);
      if (m && output.includes('tollgate | ready')) {
        clearTimeout(timer);
        // Scanning the whole output on every later chunk would cost more with every line the mesh logs.
        child.stdout!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tollgate up exited with ${code}:\n${output}`));
    });
  });
  const at = args.indexOf('--config-dir');
  return {
    url,
    configDir: path.resolve(cwd ?? '.', at >= 0 ? args[at + 1]! : 'mesh'),
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** A `tollgate controller` process: the URL it listens on, and its output so far. */
export interface ControllerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `tollgate controller` on `configDir` and waits for its "ready" line. By default it listens on a port the
 * kernel chooses and the URL is read from its output: a port picked beforehand may be taken, meanwhile, by another
 * test's outgoing connection. A restart passes the URL's host:port to come back where the proxies expect it.
 */
export async function startController(configDir: string, listen = '127.0.0.1:0'): Promise<ControllerProcess> {
  const child = spawn(process.execPath, [BIN, 'controller', '--config-dir', configDir, '--listen', listen], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tollgate controller did not become ready:\n${output}`)), 20_000);
    const onData = (): void => {
      const m = /controller \| listening on (http:\/\/[^\s,]+)/.exec(output);
      if (!m || !output.includes('controller | ready')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.removeListener('exit', onExit);
      resolve(m[1]!);
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`tollgate controller exited with ${code}:\n${output}`));
    };
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
  });
  return {
    url,
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A real dnsmasq on 127.0.0.1 answering `records` (name -> address) and refusing everything else. */
export async function startDnsmasq(
  records: Readonly<Record<string, string>>,
): Promise<{ server: string; stop: () => void }> {
  // The port is free for UDP when chosen; dnsmasq also binds it for TCP, where something else may hold it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDnsmasqOn(await freeUdpPort(), records);
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

async function startDnsmasqOn(
  port: number,
  records: Readonly<Record<string, string>>,
): Promise<{ server: string; stop: () => void }> {
  const args = [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--log-facility=-',
    ...Object.entries(records).map(([name, addr]) => `--host-record=${name},${addr}`),
  ];
  const child = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`dnsmasq could not start (${err.message}); install dnsmasq-base`)));
    child.on('exit', (code) => reject(new Error(`dnsmasq exited with ${code}: ${stderr}`)));
    // dnsmasq has no ready signal: query it until it answers.
    const started = Date.now();
    const probe = (): void => {
      const sock = dgram.createSocket('udp4');
      const query = Buffer.from('abcd01000001000000000000076578616d706c650000010001', 'hex');
      sock.on('message', () => {
        sock.close();
        resolve();
      });
      sock.send(query, port, '127.0.0.1');
      setTimeout(() => {
        try {
          sock.close();
        } catch {
          /* already closed */
        }
        if (Date.now() - started > 10_000) reject(new Error(`dnsmasq did not answer: ${stderr}`));
        else probe();
      }, 100);
    };
    probe();
  });
  child.removeAllListeners('exit');
  return { server: `127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.on('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

/** The stand-in for an external site: answers every request with a 301 to https://<host>/, like aliyun.com does. */
export async function startRedirectSite(
  address: string,
  port: number,
): Promise<{ port: number; requests: { remote: string; host: string; method: string }[]; close: () => Promise<void> }> {
  const requests: { remote: string; host: string; method: string }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ remote: req.socket.remoteAddress ?? '', host: req.headers.host ?? '', method: req.method ?? '' });
    const body = '<html><body>301 Moved Permanently</body></html>\n';
    res.writeHead(301, {
      location: `https://${(req.headers.host ?? 'localhost').split(':')[0]}/`,
      'content-type': 'text/html',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // Upgrade requests (WebSocket) get a 101 and an echo of every byte, prefixed "echo:".
  server.on('upgrade', (req: http.IncomingMessage, socket: import('node:net').Socket) => {
    requests.push({ remote: req.socket.remoteAddress ?? '', host: req.headers.host ?? '', method: 'UPGRADE' });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { eventually } from './eventually.js';
export { tempDir } from './temp-dir.js';

/** The sleep workload's sidecar as an HTTP proxy URL, from `tollgate status` (its address and capture port). */
export async function sleepSidecar(controller: ControllerRef): Promise<string> {
  const status = (await tollgate(['status'], controller)).stdout;
  const ip = /sleep\.default\s+sidecar\s+(\S+)/.exec(status)?.[1];
  if (ip === undefined) throw new Error(`no sleep sidecar in tollgate status:\n${status}`);
  return `http://${ip}:15001`;
}

/** The pods of `tollgate logs` output that merges replicas (kubectl's "[pod/NAME/istio-proxy] " prefix), sorted. */
export function prefixedPods(stdout: string): (string | undefined)[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => /^\[pod\/([^/]+)\/istio-proxy\] \{/.exec(l)?.[1])
    .sort();
}

/**
 * The skip option of a suite that needs root (port 80, DNS on loopback aliases). Off root it says so loudly in the
 * test output, not only in a skip count; with TOLLGATE_E2E_ROOT=required (as CI sets it) a missing root is a
 * failure, so CI can never pass by skipping them.
 */
export function rootOnly(suite: string, why: string): false | string {
  if (process.getuid?.() === 0) return false;
  if (process.env.TOLLGATE_E2E_ROOT === 'required') {
    throw new Error(`${suite} needs root (${why}) and TOLLGATE_E2E_ROOT=required: run the tests as root`);
  }
  process.stderr.write(
    `\n*** SKIPPED: ${suite}: needs root (${why}). It runs in CI (.ci/run runs as root); run \`sudo npm test\` to run it here. ***\n\n`,
  );
  return `needs root: ${why}`;
}
