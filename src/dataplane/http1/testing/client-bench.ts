// A micro benchmark of the upstream client: GETs to a local nginx answering 301, through UpstreamPool and through
// node:http's request with a keep-alive Agent, at 1 and 50 exchanges in flight, rounds interleaved. Prints
// requests per second and client CPU per request. Run: node dist/src/dataplane/http1/testing/client-bench.js
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpstreamPool } from '../pool.js';
import type { UpstreamResponse } from '../types.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HEADERS = { host: 'upstream.test', 'user-agent': 'bench', accept: '*/*' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function startNginx(port: number, dir: string): Promise<ChildProcess> {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; location / { return 301 http://example.test/; } } }
`,
  );
  const nginx = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const ok = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' }).then(
      () => true,
      () => false,
    );
    if (ok) return nginx;
  }
  throw new Error('nginx did not start');
}

type OneRequest = (done: () => void) => void;

function viaPool(pool: UpstreamPool, port: number): OneRequest {
  const options = {
    ip: '127.0.0.1',
    port,
    localAddress: undefined,
    method: 'GET',
    path: '/',
    headers: HEADERS,
    hasBody: false,
  };
  return (done) => {
    const events = {
      onSocket() {},
      onConnected() {},
      onResponse(res: UpstreamResponse) {
        res.onData(() => {});
        res.onEnd(done);
      },
      onUpgrade() {},
      onError(err: Error) {
        throw err;
      },
    };
    pool.exchange(options, events);
  };
}

function viaNodeHttp(agent: Agent, port: number): OneRequest {
  return (done) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: HEADERS, agent, setHost: false }, (res) => {
      res.on('data', () => {});
      res.on('end', done);
    });
    req.on('error', (err) => {
      throw err;
    });
    req.end();
  };
}

async function measure(one: OneRequest, concurrency: number): Promise<{ rps: number; cpuUs: number }> {
  let stopTimer: NodeJS.Timeout | undefined;
  const result = new Promise<{ rps: number; cpuUs: number }>((resolve) => {
    let count = 0;
    let stop = false;
    stopTimer = setTimeout(() => (stop = true), SECONDS * 1000);
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    let running = concurrency;
    const loop = (): void => {
      count++;
      if (!stop) {
        one(loop);
        return;
      }
      if (--running > 0) return;
      const used = process.cpuUsage(cpu);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      resolve({ rps: count / seconds, cpuUs: (used.user + used.system) / count });
    };
    for (let i = 0; i < concurrency; i++) one(loop);
  });
  const r = await result;
  clearTimeout(stopTimer);
  return r;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-client-bench-'));
  const port = await freePort();
  const nginx = await startNginx(port, dir);
  try {
    const pool = new UpstreamPool({ maxConnections: Infinity });
    const agent = new Agent({ keepAlive: true, scheduling: 'lifo' });
    const targets: [string, OneRequest][] = [
      ['UpstreamPool', viaPool(pool, port)],
      ['node:http + Agent', viaNodeHttp(agent, port)],
    ];
    for (const concurrency of [1, 50]) {
      // Warm both (JIT, connections) before measuring.
      for (const [, one] of targets) await measure(one, concurrency);
      const totals = new Map<string, { rps: number[]; cpuUs: number[] }>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, one] of targets) {
          const r = await measure(one, concurrency);
          const t = totals.get(name) ?? { rps: [], cpuUs: [] };
          t.rps.push(r.rps);
          t.cpuUs.push(r.cpuUs);
          totals.set(name, t);
        }
      }
      for (const [name, t] of totals) {
        const rps = median(t.rps);
        const cpu = median(t.cpuUs);
        console.log(
          `c=${concurrency} ${name.padEnd(18)} ${rps.toFixed(0).padStart(7)} req/s  ${cpu.toFixed(1).padStart(6)} us CPU/req  (rounds: ${t.rps.map((x) => x.toFixed(0)).join(' ')})`,
        );
      }
    }
    pool.destroy();
    agent.destroy();
  } finally {
    nginx.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

await main();
