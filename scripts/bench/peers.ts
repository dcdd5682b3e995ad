// The peers the bench runs beside tollgate, from their Debian packages, each on its own loopback address:
// the upstream (nginx answering 301), nginx and HAProxy as reverse proxies, Squid as a forward proxy, and the
// plain node:http forward proxy. A peer whose binary is not on PATH is skipped with a note.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WrkTarget } from './wrk.js';

export interface Started {
  readonly name: string;
  readonly pids: readonly number[];
  readonly target: WrkTarget;
  stop(): void;
}

/** Where the bench's hostnames point: the upstream, on its own address. */
export const UPSTREAM = { ip: '127.0.77.10', port: 8080 } as const;
/** The host the forward proxies are asked for (one ServiceEntry, port 8080, resolution DNS). */
export const DIRECT_HOST = 'direct.bench.internal';

export function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

function nginxConf(dir: string, server: string): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
${server}
}
`;
}

function startNginx(dir: string, server: string): ChildProcess {
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConf(dir, server));
  return spawn('nginx', ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The upstream every target reaches: nginx answering 301 with its default body (about 160 bytes). */
export function startUpstream(dir: string): Started {
  const child = startNginx(
    path.join(dir, 'upstream'),
    `  access_log off;
  server {
    listen ${UPSTREAM.ip}:${UPSTREAM.port};
    location / { return 301 http://${DIRECT_HOST}/moved; }
  }`,
  );
  return {
    name: 'upstream (nginx)',
    pids: [child.pid!],
    target: { host: UPSTREAM.ip, port: UPSTREAM.port, requestTarget: '/', authority: DIRECT_HOST },
    stop: () => stopChild(child),
  };
}

export function startNginxReverse(dir: string): Started {
  const ip = '127.0.77.11';
  const d = path.join(dir, 'nginx');
  fs.mkdirSync(d, { recursive: true });
  const child = startNginx(
    d,
    `  access_log ${d}/access.log;
  upstream origin { server ${UPSTREAM.ip}:${UPSTREAM.port}; keepalive 64; }
  server {
    listen ${ip}:8080;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }
  }`,
  );
  return {
    name: 'nginx (reverse)',
    pids: [child.pid!],
    target: { host: ip, port: 8080, requestTarget: '/', authority: `${DIRECT_HOST}:8080` },
    stop: () => stopChild(child),
  };
}

export function startHaproxy(dir: string): Started {
  const ip = '127.0.77.12';
  const d = path.join(dir, 'haproxy');
  fs.mkdirSync(d, { recursive: true });
  const conf = path.join(d, 'haproxy.cfg');
  fs.writeFileSync(
    conf,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend bench
  bind ${ip}:8080
  default_backend origin
backend origin
  server origin ${UPSTREAM.ip}:${UPSTREAM.port}
`,
  );
  const child = spawn('haproxy', ['-db', '-f', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    name: 'HAProxy (reverse)',
    pids: [child.pid!],
    target: { host: ip, port: 8080, requestTarget: '/', authority: `${DIRECT_HOST}:8080` },
    stop: () => stopChild(child),
  };
}

export function squidVersion(): string {
  try {
    const text = execFileSync('squid', ['-v'], { encoding: 'utf8' });
    return /Version ([\d.]+)/.exec(text)?.[1] ?? '';
  } catch {
    return '';
  }
}

/** Squid as a forward proxy, no cache, its access log on; the bench host resolves through its own hosts file. */
export function startSquid(dir: string): Started {
  const ip = '127.0.77.13';
  const d = path.join(dir, 'squid');
  fs.mkdirSync(d, { recursive: true, mode: 0o777 });
  fs.chmodSync(d, 0o777);
  fs.writeFileSync(path.join(d, 'hosts'), `${UPSTREAM.ip} ${DIRECT_HOST}\n`);
  const conf = path.join(d, 'squid.conf');
  fs.writeFileSync(
    conf,
    `http_port ${ip}:3128
http_access allow all
cache deny all
hosts_file ${d}/hosts
dns_nameservers 127.0.0.1
access_log stdio:${d}/access.log
cache_log ${d}/cache.log
pid_filename ${d}/squid.pid
coredump_dir ${d}
shutdown_lifetime 0 seconds
max_filedescriptors 8192
`,
  );
  const log = fs.openSync(path.join(d, 'stderr.log'), 'a');
  const child = spawn('squid', ['-N', '-f', conf], { stdio: ['ignore', 'ignore', log] });
  fs.closeSync(log);
  return {
    name: `Squid ${squidVersion()} (forward)`.replace('  ', ' '),
    pids: [child.pid!],
    target: {
      host: ip,
      port: 3128,
      requestTarget: `http://${DIRECT_HOST}:${UPSTREAM.port}/`,
      authority: `${DIRECT_HOST}:${UPSTREAM.port}`,
    },
    stop: () => stopChild(child),
  };
}

export function startNodeProxy(): Started {
  return startScriptProxy('node:http + keep-alive Agent', '127.0.77.14', 'node-proxy.js', UPSTREAM.ip);
}

/** tollgate's HTTP/1.1 codec as a bare forward proxy (`codec-proxy.ts`): the floor under the sidecar. */
export function startCodecProxy(): Started {
  return startScriptProxy(
    'tollgate codec, bare (no routing, no log)',
    '127.0.77.15',
    'codec-proxy.js',
    `${UPSTREAM.ip}:${UPSTREAM.port}`,
  );
}

/** A TCP relay in Node (`tcp-relay.ts`): bytes copied both ways, no HTTP; the floor of any proxy in Node. */
export function startTcpRelay(): Started {
  return startScriptProxy('Node TCP relay (no HTTP)', '127.0.77.16', 'tcp-relay.js', `${UPSTREAM.ip}:${UPSTREAM.port}`);
}

/** Node options for the proxies written in Node (BENCH_PROXY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=DIR"). */
export const PROXY_NODE_ARGS = (process.env.BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

/**
 * A forward proxy written in Node beside this file, listening on ip:8080 and mapping DIRECT_HOST to `to`; it runs
 * with BENCH_PROXY_NODE_ARGS as tollgate's proxies do, so that a profile compares like with like.
 */
function startScriptProxy(name: string, ip: string, file: string, to: string): Started {
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), file);
  const child = fork(script, [`${ip}:8080`, `${DIRECT_HOST}=${to}`], { stdio: 'ignore', execArgv: PROXY_NODE_ARGS });
  return {
    name,
    pids: [child.pid!],
    target: {
      host: ip,
      port: 8080,
      requestTarget: `http://${DIRECT_HOST}:${UPSTREAM.port}/`,
      authority: `${DIRECT_HOST}:${UPSTREAM.port}`,
    },
    stop: () => stopChild(child),
  };
}
