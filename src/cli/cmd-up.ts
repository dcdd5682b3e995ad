// `tollgate up`: the local mesh in the foreground until SIGINT / SIGTERM.
import path from 'node:path';
import { dnsServerResolver, parseConnectTo } from '../dataplane/index.js';
import { LocalMesh } from '../runtime/index.js';
import { tokenPath } from '../controller/index.js';
import { DEFAULT_CONFIG_DIR, DEFAULT_CONTROLLER } from './client.js';
import { readInputFiles } from './files.js';

export interface UpOptions {
  readonly configDir: string;
  readonly listen?: string;
  readonly podCidr?: string;
  readonly dnsServer: readonly string[];
  readonly connectTo: readonly string[];
  readonly standIn: readonly string[];
  readonly seed: readonly string[];
}

export async function upCommand(opts: UpOptions, controllerOption: string | undefined): Promise<number> {
  const listen = parseListen(
    opts.listen ?? new URL(controllerOption ?? process.env.TOLLGATE_CONTROLLER ?? DEFAULT_CONTROLLER).host,
  );
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  // Checked here, where the user typed them (setServers refuses a malformed one); the proxies get them as given.
  if (opts.dnsServer.length > 0) dnsServerResolver([...opts.dnsServer]);
  const mesh = new LocalMesh({
    configDir: path.resolve(opts.configDir),
    listen,
    podCidr: opts.podCidr,
    dnsServers: opts.dnsServer,
    connectTo: opts.connectTo.filter((rule) => parseConnectTo(rule)),
    // Each proxy replica is this same program run as `tollgate proxy ...`.
    program: { command: process.execPath, args: [...process.execArgv, process.argv[1]!] },
    standIns: opts.standIn,
    seeds: opts.seed.length > 0 ? await readInputFiles(opts.seed) : [],
    out,
  });
  await mesh.start();
  out(`tollgate | controller listening on ${mesh.url}, config dir ${opts.configDir}`);
  if (mesh.url !== DEFAULT_CONTROLLER) out(`tollgate | clients: export TOLLGATE_CONTROLLER=${mesh.url}`);
  // Clients find the admin token through the config directory; from elsewhere they need to be told where it is.
  if (path.resolve(opts.configDir) !== path.resolve(DEFAULT_CONFIG_DIR) || process.env.TOLLGATE_CONFIG_DIR)
    out(`tollgate | clients: export TOLLGATE_CONFIG_DIR=${path.resolve(opts.configDir)}`);
  out(`tollgate | admin token: ${tokenPath(path.resolve(opts.configDir), 'admin')}`);
  out('tollgate | ready');
  await untilSignal();
  out('tollgate | shutting down: draining the proxies');
  await mesh.stop();
  return 0;
}

/** "HOST:PORT", "[::1]:PORT" or ":PORT". */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (!match) throw new Error(`--listen ${text}: expected HOST:PORT, e.g. 127.0.0.1:15010`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`--listen ${text}: port out of range`);
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

/** Resolves on the first SIGINT or SIGTERM: the foreground commands stop cleanly on either. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
