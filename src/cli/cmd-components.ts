// The components as separate processes: `tollgate controller` (istiod's role) and `tollgate proxy` (one sidecar
// or gateway). They speak the same discovery protocol that `tollgate up` uses in-process.
import path from 'node:path';
import {
  Controller,
  loadOrCreateTokens,
  reportDiagnostics,
  startAdminServer,
  TokenAuthenticator,
  tokenPath,
} from '../controller/index.js';
import { dnsServerResolver, parseConnectTo, readCaBundle, systemResolver } from '../dataplane/index.js';
import { nodeId, type ProxyType } from '../proxy-config/types.js';
import { ProxyRunner, startProxyAdmin } from '../runtime/index.js';
import { readToken, type TokenSource } from './client.js';
import { parseListen, untilSignal } from './cmd-up.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

export async function controllerCommand(opts: { configDir: string; listen: string }): Promise<number> {
  const dir = path.resolve(opts.configDir);
  const controller = new Controller(dir);
  controller.on('warning', (message: string) => out(`controller | warning: ${message}`));
  await controller.start();
  reportDiagnostics(controller, (line) => out(`controller | ${line}`));
  const admin = await startAdminServer(controller, {
    listen: parseListen(opts.listen),
    auth: new TokenAuthenticator(loadOrCreateTokens(dir), dir),
  });
  out(`controller | listening on ${admin.url}, config dir ${opts.configDir}`);
  out(`controller | admin token ${tokenPath(dir, 'admin')}; proxies join with ${tokenPath(dir, 'proxy')}`);
  out('controller | ready');
  await untilSignal();
  // Graceful: requests in flight (an apply) finish; proxies keep their config and reconnect to the next controller.
  out('controller | draining');
  await admin.drain(CONTROLLER_DRAIN_MS);
  controller.stop();
  return 0;
}

/** How long a stopping controller lets requests in flight finish. */
export const CONTROLLER_DRAIN_MS = 5_000;

export interface ProxyOptions {
  readonly type: string;
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  /** The pod's name (one replica of `name`); absent: the proxy goes by `name`. */
  readonly pod?: string;
  readonly label: readonly string[];
  readonly serviceAccount?: string;
  readonly dnsServer: readonly string[];
  readonly connectTo: readonly string[];
  /** PEM files of CAs trusted for upstream TLS beyond the system store (`--trusted-ca`). */
  readonly trustedCa: readonly string[];
  /** Where the proxy join token is. */
  readonly token: TokenSource;
  /** How long a SIGTERM lets connections finish ("5s"). */
  readonly drainTimeoutMs: number;
  /** Run by a supervisor: standard input is its pipe, and its closing means the supervisor is gone. */
  readonly supervised?: boolean;
  /** As given on the command line; parsed by proxyConcurrency. */
  readonly concurrency?: string;
}

/** Istio's proxies run 2 worker threads by default (gateways); a sidecar here defaults to one process. */
export function proxyConcurrency(type: ProxyType, given: string | undefined): number {
  if (given === undefined) return type === 'router' ? 2 : 1;
  const n = Number(given);
  if (!/^\d+$/.test(given) || n < 1 || n > 64)
    throw new Error(`--concurrency ${given}: expected a number from 1 to 64`);
  return n;
}

export async function proxyCommand(opts: ProxyOptions, controller: string): Promise<number> {
  const type: ProxyType =
    opts.type === 'gateway' || opts.type === 'router'
      ? 'router'
      : opts.type === 'sidecar'
        ? 'sidecar'
        : fail(opts.type);
  const labels: Record<string, string> = {};
  for (const l of opts.label) {
    const at = l.indexOf('=');
    if (at <= 0) throw new Error(`--label ${l}: expected KEY=VALUE`);
    labels[l.slice(0, at)] = l.slice(at + 1);
  }
  const token = readToken(opts.token);
  if (token === undefined)
    throw new Error(
      `no proxy join token at ${opts.token.path} (from ${opts.token.from}): pass --token-file with a copy of the ` +
        "controller's <config-dir>/.tollgate/proxy-token",
    );
  const concurrency = proxyConcurrency(type, opts.concurrency);
  const prefix = `${opts.pod ?? opts.name}.${opts.namespace}`;
  const runner = new ProxyRunner({
    controller,
    token,
    node: {
      id: nodeId(type, opts.ip, opts.pod ?? opts.name, opts.namespace),
      type,
      name: opts.name,
      namespace: opts.namespace,
      ...(opts.pod !== undefined ? { pod: opts.pod } : {}),
      ip: opts.ip,
      labels,
      serviceAccount: opts.serviceAccount ?? (type === 'router' ? `${opts.name}-service-account` : 'default'),
    },
    resolver: opts.dnsServer.length > 0 ? dnsServerResolver([...opts.dnsServer]) : systemResolver(),
    connectTo: opts.connectTo.map(parseConnectTo),
    trustedCas: opts.trustedCa.map((file) => readTrustedCa(file)),
    dnsServers: opts.dnsServer,
    concurrency,
    stdout: out,
    // Alone, the access log goes out in batches, as Envoy's does. Under `tollgate up` each line goes at once: the
    // supervisor's `tollgate logs` reads this output, and a request should be there when the client has its answer.
    ...(opts.supervised ? {} : { stdoutBatch: (bytes: Buffer) => void process.stdout.write(bytes) }),
    event: (message) => process.stderr.write(`${prefix} | ${message}\n`),
  });
  const admin = await startProxyAdmin(runner.logs, opts.ip);
  // Whatever way the process ends, the access-log lines still in a batch are written (stdout to a file or a pipe
  // is written synchronously on Linux, so this completes before exit).
  process.once('exit', () => runner.flushLogs());
  runner.start();
  process.stderr.write(
    `${prefix} | ${type === 'router' ? 'gateway' : 'sidecar'} at ${opts.ip}${concurrency > 1 ? ` (${concurrency} workers)` : ''}, controller ${controller}, access log at ${admin.url}/logs\n`,
  );
  await (opts.supervised ? Promise.race([untilSignal(), untilClosed(process.stdin)]) : untilSignal());
  if (opts.supervised) process.stdin.destroy();
  // Envoy's drain: leave the endpoints, let what is in flight (and what still arrives) finish, then exit.
  process.stderr.write(`${prefix} | draining (up to ${opts.drainTimeoutMs} ms)\n`);
  await runner.drain(opts.drainTimeoutMs);
  await admin.close();
  process.stderr.write(`${prefix} | drained\n`);
  return 0;
}

/** Resolves when the stream ends: a supervisor's pipe closes when the supervisor exits, however it exits. */
function untilClosed(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.on('data', () => {});
    stream.once('end', () => resolve());
    stream.once('error', () => resolve());
  });
}

function readTrustedCa(file: string): string {
  try {
    return readCaBundle(file);
  } catch (err) {
    throw new Error(`--trusted-ca ${(err as Error).message}`);
  }
}

function fail(type: string): never {
  throw new Error(`proxy type ${type}: expected sidecar or gateway`);
}
