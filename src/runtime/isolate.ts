// `tollgate exec --isolate`: the command runs in a network namespace of its own whose only reachable address is its
// sidecar, so a client that ignores the proxy variables gets a connection error instead of reaching the internet
// (fail closed, as iptables capture does in a pod). The namespace has a veth pair to the host and no route beyond
// it; an nftables table lets through only connections to the sidecar's port on the host end of the pair, where a
// forwarder hands them to the sidecar. Everything is set up here and torn down when the command ends.
import { execFile, spawnSync } from 'node:child_process';
import net, { type Socket } from 'node:net';
import { SIDECAR_CAPTURE_PORT } from '../proxy-config/types.js';

export interface Isolation {
  /** `ip netns exec <name>` runs a command inside. */
  readonly netns: string;
  /** The proxy URL the command is given: the host end of the pair, on the sidecar's port. */
  readonly proxyUrl: string;
  /** The namespace's own address (what the sidecar sees as the client). */
  readonly podAddress: string;
  close(): Promise<void>;
}

const PREFIX = 'tollgate-';

/** Why isolation cannot work here, or undefined when it can. */
export function isolationUnavailable(): string | undefined {
  if (process.platform !== 'linux') return '--isolate needs Linux network namespaces';
  if (process.getuid?.() !== 0)
    return '--isolate needs root (it creates a network namespace, a veth pair and nftables rules)';
  for (const tool of ['ip', 'nft']) {
    const probe = spawnSync(tool, ['--version'], { stdio: 'ignore' });
    if (probe.error)
      return `--isolate needs \`${tool}\` (Debian: apt-get install ${tool === 'ip' ? 'iproute2' : 'nftables'})`;
  }
  return undefined;
}

function run(cmd: string, args: readonly string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve();
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces and tables left by an exec that was killed before it could clean up. */
async function sweepStale(): Promise<void> {
  const listing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of listing.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length));
    if (!Number.isInteger(pid) || alive(pid)) continue;
    await run('ip', ['netns', 'del', name]).catch(() => undefined);
    await run('nft', ['delete', 'table', 'inet', tableName(pid)]).catch(() => undefined);
  }
}

const tableName = (pid: number): string => `tollgate_${pid}`;

/** A /30 in 198.18.0.0/15 (RFC 2544's benchmarking range, never routed on the internet) not used on this host. */
function pickSubnet(pid: number): { host: string; pod: string } {
  const inUse = spawnSync('ip', ['-4', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (let attempt = 0; attempt < 64; attempt++) {
    const n = ((pid + attempt * 7919) % 32768) * 4;
    const base = [198, 18 + (n >> 16), (n >> 8) & 255, n & 255];
    const host = `${base[0]}.${base[1]}.${base[2]}.${(base[3] ?? 0) + 1}`;
    const pod = `${base[0]}.${base[1]}.${base[2]}.${(base[3] ?? 0) + 2}`;
    if (!inUse.includes(` ${host}/`) && !inUse.includes(` ${pod}/`)) return { host, pod };
  }
  throw new Error('--isolate: no free /30 in 198.18.0.0/15');
}

/** Sets the namespace up for one command, with a forwarder to the sidecar at `sidecarIp`. */
export async function isolate(sidecarIp: string): Promise<Isolation> {
  await sweepStale();
  const pid = process.pid;
  const netns = `${PREFIX}${pid}`;
  const hostIf = `tgh${pid}`.slice(0, 15);
  const podIf = `tgn${pid}`.slice(0, 15);
  const table = tableName(pid);
  const { host, pod } = pickSubnet(pid);
  const forwarder = await startForwarder(host, sidecarIp);
  const teardown = async (): Promise<void> => {
    await forwarder.close();
    await run('nft', ['delete', 'table', 'inet', table]).catch(() => undefined);
    // Deleting the namespace deletes the veth pair with it.
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
  };
  try {
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', podIf]);
    await run('ip', ['link', 'set', podIf, 'netns', netns]);
    await run('ip', ['addr', 'add', `${host}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
    await run('ip', ['netns', 'exec', netns, 'ip', 'addr', 'add', `${pod}/30`, 'dev', podIf]);
    await run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', podIf, 'up']);
    // From the namespace, only the forwarder; nothing through the host either way.
    await run(
      'nft',
      ['-f', '-'],
      `table inet ${table} {
  chain input {
    type filter hook input priority -10; policy accept;
    iifname "${hostIf}" ip daddr ${host} tcp dport ${SIDECAR_CAPTURE_PORT} accept
    iifname "${hostIf}" ct state established,related accept
    iifname "${hostIf}" drop
  }
  chain forward {
    type filter hook forward priority -10; policy accept;
    iifname "${hostIf}" drop
    oifname "${hostIf}" drop
  }
}
`,
    );
    await forwarder.listen();
  } catch (err) {
    await teardown();
    throw err;
  }
  return { netns, proxyUrl: `http://${host}:${SIDECAR_CAPTURE_PORT}`, podAddress: pod, close: teardown };
}

/** Listens on the host end of the pair and pipes each connection to the sidecar. */
async function startForwarder(
  host: string,
  sidecarIp: string,
): Promise<{ listen(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.on('error', () => {});
    const upstream = net.connect({ host: sidecarIp, port: SIDECAR_CAPTURE_PORT, allowHalfOpen: true });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.once('close', () => {
      sockets.delete(client);
      upstream.end(() => upstream.destroy());
    });
    upstream.once('close', () => {
      sockets.delete(upstream);
      client.end(() => client.destroy());
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return {
    listen: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(SIDECAR_CAPTURE_PORT, host, () => resolve());
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}
