// `npm run soak [-- --minutes N]`: a bounded soak on loopback. `tollgate up` with a stand-in for aliyun.com, load
// through the sleep sidecar (HTTP through the egress gateway, HTTPS through CONNECT tunnels), and a config change
// every few seconds that the traffic does not depend on. Every window prints requests, errors, latency percentiles,
// and the memory and file descriptors of `up` and its children; the summary says whether anything failed and how
// far memory drifted. Exits non-zero on an unexpected error.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { EXAMPLES, startUp, tempDir, tollgate } from '../test/helpers/processes.js';

const args = process.argv.slice(2);
const minutes = Number(args[args.indexOf('--minutes') + 1] ?? 1) || 1;
const WINDOW_MS = 15_000;
const CHURN_MS = 3_000;
const HTTP_CLIENTS = 12;
const HTTPS_CLIENTS = 4;

interface Window {
  requests: number;
  errors: number;
  latencies: number[];
}

const newWindow = (): Window => ({ requests: 0, errors: 0, latencies: [] });
const errorsSeen = new Map<string, number>();

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The resident memory (KiB) and open descriptors of a process and all its descendants. */
function footprint(root: number): { rssKiB: number; fds: number; processes: number } {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  let rssKiB = 0;
  let fds = 0;
  let processes = 0;
  const visit = (pid: number): void => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      rssKiB += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      fds += fs.readdirSync(`/proc/${pid}/fd`).length;
      processes++;
    } catch {
      return;
    }
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return { rssKiB, fds, processes };
}

function note(kind: string): void {
  errorsSeen.set(kind, (errorsSeen.get(kind) ?? 0) + 1);
}

/** Plain HTTP as the workload sends it to its sidecar: absolute-form, keep-alive. */
function httpLoop(proxyPort: number, proxyIp: string, until: number, window: () => Window): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = http.request(
        {
          host: proxyIp,
          port: proxyPort,
          path: 'http://aliyun.com/soak',
          method: 'GET',
          agent,
          headers: { host: 'aliyun.com' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const w = window();
            w.requests++;
            w.latencies.push(performance.now() - started);
            if (res.statusCode !== 301) {
              w.errors++;
              note(`http ${res.statusCode}`);
            }
            resolve();
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        const w = window();
        w.requests++;
        w.errors++;
        note(`http ${err.code ?? err.message}`);
        resolve();
      });
      req.end();
    });
  return (async () => {
    while (Date.now() < until) await once();
    agent.destroy();
  })();
}

/** HTTPS as curl sends it through its sidecar: CONNECT, then TLS with SNI, one request per tunnel. */
function httpsLoop(
  proxyPort: number,
  proxyIp: string,
  trust: tls.SecureContext,
  until: number,
  window: () => Window,
): Promise<void> {
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      let settled = false;
      const fail = (kind: string): void => {
        if (settled) return;
        settled = true;
        const w = window();
        w.requests++;
        w.errors++;
        note(`https ${kind}`);
        resolve();
      };
      const socket = net.connect(proxyPort, proxyIp, () =>
        socket.write('CONNECT aliyun.com:443 HTTP/1.1\r\nHost: aliyun.com:443\r\n\r\n'),
      );
      socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
      socket.once('data', (d: Buffer) => {
        if (!d.toString('latin1').startsWith('HTTP/1.1 200')) return fail('CONNECT refused');
        const secure = tls.connect({ socket, servername: 'aliyun.com', secureContext: trust }, () => {
          secure.write('GET /soak HTTP/1.1\r\nHost: aliyun.com\r\nConnection: close\r\n\r\n');
        });
        let text = '';
        secure.on('data', (c: Buffer) => (text += c.toString('latin1')));
        secure.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
        secure.on('close', () => {
          if (settled) return;
          if (!text.startsWith('HTTP/1.1 200')) return fail('bad response');
          settled = true;
          const w = window();
          w.requests++;
          w.latencies.push(performance.now() - started);
          resolve();
        });
      });
    });
  return (async () => {
    while (Date.now() < until) await once();
  })();
}

async function main(): Promise<number> {
  const dir = tempDir('soak');
  const up = await startUp([
    '--config-dir',
    path.join(dir, 'mesh'),
    '--stand-in',
    'aliyun.com',
    '--seed',
    path.join(EXAMPLES, 'sleep.yaml'),
  ]);
  const cli = (...a: string[]) => tollgate(a, up);
  try {
    const applied = await cli(
      'apply',
      '--wait',
      ...['serviceentry.yaml', 'gateway.yaml', 'virtualservice.yaml'].flatMap((f) => ['-f', path.join(EXAMPLES, f)]),
      '-f',
      path.join(EXAMPLES, '..', 'aliyun-https', 'serviceentry.yaml'),
    );
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
    const status = (await cli('status')).stdout;
    const sidecarIp = status
      .split('\n')
      .find((l) => l.startsWith('sleep.default'))
      ?.split(/\s+/)[2];
    if (!sidecarIp) throw new Error(`no sidecar in status:\n${status}`);
    // One secure context for every tunnel, as a long-running client keeps one: building one per connection (its CA
    // parsed each time) makes the load generator, not the mesh, the bottleneck within minutes.
    const trust = tls.createSecureContext({
      ca: fs.readFileSync(path.join(dir, 'mesh', '.tollgate', 'stand-in', 'ca.pem'), 'utf8'),
    });

    const until = Date.now() + minutes * 60_000;
    let current = newWindow();
    const window = (): Window => current;
    const loops = [
      ...Array.from({ length: HTTP_CLIENTS }, () => httpLoop(15001, sidecarIp, until, window)),
      ...Array.from({ length: HTTPS_CLIENTS }, () => httpsLoop(15001, sidecarIp, trust, until, window)),
    ];

    // Config churn the traffic does not depend on: a ServiceEntry for another host, created and deleted in turn.
    const churnFile = path.join(dir, 'churn.yaml');
    let churns = 0;
    let churnFailures = 0;
    const churn = (async () => {
      while (Date.now() < until) {
        fs.writeFileSync(
          churnFile,
          `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: churn}\nspec:\n  hosts: [churn-${churns}.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n`,
        );
        const r = await cli('apply', '--wait', '-f', churnFile);
        if (r.code !== 0) churnFailures++;
        churns++;
        await new Promise((res) => setTimeout(res, CHURN_MS));
      }
    })();

    const rows: {
      at: number;
      requests: number;
      errors: number;
      p50: number;
      p99: number;
      rssMiB: number;
      fds: number;
    }[] = [];
    const started = Date.now();
    console.log(
      `soak: ${minutes} min, ${HTTP_CLIENTS} HTTP + ${HTTPS_CLIENTS} HTTPS clients, a config change every ${CHURN_MS / 1000} s`,
    );
    console.log('    t   requests   errors    p50 ms    p99 ms   RSS MiB   fds   processes');
    while (Date.now() < until) {
      await new Promise((res) => setTimeout(res, Math.min(WINDOW_MS, Math.max(0, until - Date.now()))));
      const w = current;
      current = newWindow();
      const sorted = w.latencies.sort((a, b) => a - b);
      const f = footprint(up.child.pid!);
      const row = {
        at: Math.round((Date.now() - started) / 1000),
        requests: w.requests,
        errors: w.errors,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        rssMiB: f.rssKiB / 1024,
        fds: f.fds,
      };
      rows.push(row);
      console.log(
        `${String(row.at).padStart(5)}s ${String(row.requests).padStart(9)} ${String(row.errors).padStart(8)} ${row.p50.toFixed(2).padStart(9)} ${row.p99.toFixed(2).padStart(9)} ${row.rssMiB.toFixed(1).padStart(9)} ${String(row.fds).padStart(5)} ${String(f.processes).padStart(11)}`,
      );
    }
    await Promise.all([...loops, churn]);
    const total = rows.reduce((n, r) => n + r.requests, 0);
    const errors = rows.reduce((n, r) => n + r.errors, 0);
    // Memory drift: the last third's median against the second third's (the first third is warm-up).
    const third = Math.max(1, Math.floor(rows.length / 3));
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const early = median(rows.slice(third, 2 * third).map((r) => r.rssMiB));
    const late = median(rows.slice(-third).map((r) => r.rssMiB));
    console.log(
      `\n${total} requests, ${errors} errors${errors > 0 ? ` (${[...errorsSeen].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}; ` +
        `${churns} config changes (${churnFailures} failed); RSS ${early.toFixed(1)} -> ${late.toFixed(1)} MiB ` +
        `(${late >= early ? '+' : ''}${(late - early).toFixed(1)}); p99 first/last window ${rows[0]?.p99.toFixed(2)}/${rows.at(-1)?.p99.toFixed(2)} ms`,
    );
    return errors === 0 && churnFailures === 0 ? 0 : 1;
  } finally {
    await up.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
