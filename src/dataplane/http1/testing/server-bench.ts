// A micro benchmark of the codec's server side against node:http's server, both answering a fixed 301 of about
// 160 bytes: wrk (1 thread, 50 keep-alive connections) against each in its own process, rounds interleaved.
// Prints req/s and the server's CPU microseconds per request. Run after a build:
//   node dist/src/dataplane/http1/testing/server-bench.js [seconds] [rounds]
import { execFileSync, fork } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serveHttp1 } from '../server.js';

type Kind = 'codec' | 'node:http';

const BODY = Buffer.from('<html><body>Moved</body></html>\n');
const HEADERS = { location: 'http://aliyun.com/', 'content-type': 'text/html', 'content-length': BODY.length };

function runServer(kind: Kind): void {
  const onListening = (port: number): void => {
    process.send!({ port });
    process.on('message', () => {
      const cpu = process.cpuUsage();
      process.send!({ cpuUs: cpu.user + cpu.system });
    });
  };
  if (kind === 'node:http') {
    const server = createHttpServer((_req, res) => {
      res.writeHead(301, HEADERS);
      res.end(BODY);
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => onListening((server.address() as { port: number }).port));
    return;
  }
  const limits = { maxHeaderBytes: 60 * 1024, headersTimeoutMs: 60_000, idleTimeoutMs: 3_600_000 };
  const handlers = {
    request(_req: unknown, res: { writeHead(s: number, h: object): void; end(b: Buffer): void }) {
      res.writeHead(301, HEADERS);
      res.end(BODY);
    },
    upgrade: () => {},
    connect: (_req: unknown, socket: { destroy(): void }) => socket.destroy(),
    clientError: () => {},
  };
  const server = createServer({ allowHalfOpen: true }, (socket) => serveHttp1(socket, handlers, limits));
  server.listen(0, '127.0.0.1', () => onListening((server.address() as { port: number }).port));
}

interface Round {
  readonly rps: number;
  readonly cpuUsPerRequest: number;
}

async function measure(kind: Kind, seconds: number): Promise<Round> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind], { stdio: 'inherit' });
  const next = (): Promise<{ port?: number; cpuUs?: number }> =>
    new Promise((resolve) => child.once('message', (m) => resolve(m as { port?: number; cpuUs?: number })));
  const { port } = await next();
  const ask = async (): Promise<number> => {
    const reply = next();
    child.send('cpu');
    return (await reply).cpuUs!;
  };
  const before = await ask();
  const out = execFileSync('wrk', ['-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const after = await ask();
  child.kill();
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  return { rps, cpuUsPerRequest: requests > 0 ? (after - before) / requests : Number.NaN };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const rounds = Number(process.argv[3] ?? 2);
  const results: Record<Kind, Round[]> = { codec: [], 'node:http': [] };
  for (let i = 0; i < rounds; i++) {
    for (const kind of ['node:http', 'codec'] as const) results[kind].push(await measure(kind, seconds));
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = (['node:http', 'codec'] as const).map((kind) => ({
    kind,
    rps: mean(results[kind].map((r) => r.rps)),
    cpu: mean(results[kind].map((r) => r.cpuUsPerRequest)),
  }));
  console.log(`wrk -t1 -c50 -d${seconds}s, ${rounds} rounds interleaved, 301 of ${BODY.length} B body`);
  for (const r of rows) {
    const each = results[r.kind].map((x) => Math.round(x.rps)).join(', ');
    console.log(
      `${r.kind.padEnd(10)} ${Math.round(r.rps).toString().padStart(7)} req/s (${each})  ${r.cpu.toFixed(1)} CPU us/req`,
    );
  }
  console.log(
    `codec / node:http: ${(rows[1]!.rps / rows[0]!.rps).toFixed(2)}x req/s, ${(rows[1]!.cpu / rows[0]!.cpu).toFixed(2)}x CPU per request`,
  );
}

if (process.argv[2] === '--serve') runServer(process.argv[3] as Kind);
else void main();
