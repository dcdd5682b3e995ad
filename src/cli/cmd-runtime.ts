// exec: run a command as a workload.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { constants } from 'node:os';
import type { ProxyStatus } from '../controller/index.js';
import { SIDECAR_CAPTURE_PORT } from '../proxy-config/types.js';
import type { AdminClient } from './client.js';
import type { Io } from './io.js';

export interface ExecOptions {
  /** Run CMD in a network namespace whose only way out is its sidecar (root, Linux). */
  readonly isolate: boolean;
  /** The mesh's config directory: where `up` leaves the trust bundle of its stand-in sites, if it runs any. */
  readonly configDir?: string;
}

/**
 * While `up` runs stand-in sites, their certificates come from a local CA: commands get a trust bundle (the
 * system's public CAs plus that CA) in the variables TLS clients read, so `curl https://aliyun.com` verifies.
 */
export function trustEnvironment(configDir: string | undefined): Record<string, string> {
  if (!configDir) return {};
  const dir = path.join(configDir, '.tollgate', 'stand-in');
  const bundle = path.join(dir, 'trust-bundle.pem');
  if (!fs.existsSync(bundle)) return {};
  return {
    SSL_CERT_FILE: bundle,
    CURL_CA_BUNDLE: bundle,
    REQUESTS_CA_BUNDLE: bundle,
    NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
  };
}

/**
 * The variables that send a command's traffic to its sidecar, in every spelling clients read: lower case (curl,
 * wget, Go, Python), upper case, and ALL_PROXY for clients that know only that one. Loopback stays local (as in a
 * pod, where the capture leaves it alone), and so does the controller.
 */
export function proxyEnvironment(proxyUrl: string, controller: string | undefined): Record<string, string> {
  const local = ['localhost', '127.0.0.1', '::1'];
  if (controller) {
    try {
      const host = new URL(controller).hostname.replace(/^\[|\]$/g, '');
      if (!local.includes(host)) local.push(host);
    } catch {
      // not a URL: nothing to add
    }
  }
  const noProxy = local.join(',');
  return {
    http_proxy: proxyUrl,
    HTTP_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    all_proxy: proxyUrl,
    ALL_PROXY: proxyUrl,
    no_proxy: noProxy,
    NO_PROXY: noProxy,
  };
}

/** Runs CMD as the workload: its traffic goes through the workload's sidecar. Exits with CMD's code. */
export async function execCommand(
  client: AdminClient,
  io: Io,
  workload: string,
  namespace: string,
  command: readonly string[],
  opts: ExecOptions = { isolate: false },
): Promise<number> {
  if (command.length === 0)
    throw new Error('exec: give a command after --, e.g. tollgate exec sleep -- curl -I aliyun.com');
  const { body } = await client.get<{ proxies: ProxyStatus[] }>('/v1/status');
  const sidecar = body.proxies.find((p) => p.type === 'sidecar' && p.name === workload && p.namespace === namespace);
  if (!sidecar?.connected || !sidecar.ip) {
    const known = body.proxies.filter((p) => p.type === 'sidecar').map((p) => `${p.name} -n ${p.namespace}`);
    io.err(
      sidecar
        ? `error: the sidecar of ${workload}.${namespace} is not running yet`
        : `error: no workload ${workload} in namespace ${namespace}; workloads: ${known.join(', ') || 'none (apply a Deployment)'}`,
    );
    return 1;
  }
  if (!opts.isolate) {
    const env = {
      ...process.env,
      ...proxyEnvironment(`http://${sidecar.ip}:${SIDECAR_CAPTURE_PORT}`, client.base),
      ...trustEnvironment(opts.configDir),
    };
    return runChild(io, command[0]!, command.slice(1), env, command[0]!);
  }
  const { isolate, isolationUnavailable } = await import('../runtime/isolate.js');
  const why = isolationUnavailable();
  if (why) {
    io.err(`error: ${why}`);
    return 1;
  }
  const isolation = await isolate(sidecar.ip);
  const stop = (): void => void isolation.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const env = {
      ...process.env,
      ...proxyEnvironment(isolation.proxyUrl, undefined),
      ...trustEnvironment(opts.configDir),
    };
    return await runChild(
      io,
      'ip',
      ['netns', 'exec', isolation.netns, ...dropPrivileges(), ...command],
      env,
      command[0]!,
    );
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await isolation.close();
  }
}

/**
 * Under sudo, the command runs as the user who ran sudo (setpriv), not as root: isolation is for clients that
 * ignore the proxy variables, and root inside the namespace could leave it.
 */
function dropPrivileges(): string[] {
  const uid = process.env.SUDO_UID;
  const gid = process.env.SUDO_GID;
  if (!uid || !gid || uid === '0') return [];
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}

function runChild(
  io: Io,
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  shown: string,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    child.on('error', (err) => {
      io.err(`error: cannot run ${shown}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 1) : 1)));
  });
}
