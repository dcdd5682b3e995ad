// Raw bytes into every listener kind: mutations of real HTTP requests, CONNECTs and ClientHellos (bit flips,
// truncations, insertions, splices), with a fixed seed and budget so CI runs the same cases every time. Each
// connection must be answered or closed in bounded time, the process must see no uncaught error, and every listener
// must serve a normal request afterwards. TOLLGATE_FUZZ_SEED and TOLLGATE_FUZZ_CASES replay or widen a run.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Harness, send } from '../testing/fixtures.js';
import { seededRandom } from '../../../test/helpers/seeded-random.js';
import { captureClientHello, type ListenerKinds, startEveryListenerKind } from '../testing/listener-kinds.js';

const SEED = Number(process.env.TOLLGATE_FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.TOLLGATE_FUZZ_CASES ?? 360);
/** How long a connection may stay open after the fuzzer has sent its bytes and half-closed. */
const SETTLE_MS = 3_000;

function mutate(seed: Buffer, rnd: () => number, corpus: readonly Buffer[]): Buffer {
  let b = Buffer.from(seed);
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 6)) {
      case 0: // flip a bit
        if (b.length > 0) b[at % b.length]! ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: // insert random bytes
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256))),
          b.subarray(at),
        ]);
        break;
      case 3: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 8))]);
        break;
      case 4: // splice in part of another seed
        {
          const other = corpus[Math.floor(rnd() * corpus.length)]!;
          const from = Math.floor(rnd() * other.length);
          b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + 1 + Math.floor(rnd() * 64))]);
        }
        break;
      case 5: {
        // repeat a run (oversized fields, duplicated headers)
        const run = b.subarray(at, at + 1 + Math.floor(rnd() * 200));
        const times = 1 + Math.floor(rnd() * 50);
        if (run.length * times < 100_000) b = Buffer.concat([b, ...Array<Buffer>(times).fill(run)]);
        break;
      }
    }
  }
  return b;
}

/** Sends the bytes, half-closes, and resolves with how the connection ended. */
function probe(port: number, bytes: Buffer): Promise<'closed' | 'stuck'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      resolve('stuck');
    }, SETTLE_MS);
    const done = (): void => {
      clearTimeout(timer);
      resolve('closed');
    };
    s.on('error', () => {});
    s.on('data', () => {});
    s.once('close', done);
    // The server may answer and close while the bytes are still being written: that is fine.
    s.once('connect', () => s.end(bytes));
  });
}

describe('raw bytes into every listener', () => {
  let kinds: ListenerKinds;
  let planes: ListenerKinds['planes'] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  let corpus: Buffer[] = [];

  before(async () => {
    process.on('uncaughtException', onUncaught);
    kinds = await startEveryListenerKind();
    planes = kinds.planes;
    corpus = [
      Buffer.from('GET http://web.test/x?y=1 HTTP/1.1\r\nHost: web.test\r\nUser-Agent: fuzz\r\n\r\n'),
      Buffer.from('POST /x HTTP/1.1\r\nHost: web.test\r\nContent-Length: 5\r\n\r\nhello'),
      Buffer.from('POST /x HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
      Buffer.from('GET /chat HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'),
      Buffer.from('CONNECT web.test:80 HTTP/1.1\r\nHost: web.test:80\r\n\r\nGET / HTTP/1.1\r\nHost: web.test\r\n\r\n'),
      Buffer.concat([
        Buffer.from('CONNECT tls.test:443 HTTP/1.1\r\nHost: tls.test:443\r\n\r\n'),
        await captureClientHello('tls.test'),
      ]),
      await captureClientHello('tls.test'),
      await captureClientHello('gw.test'),
    ];
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    await kinds.close();
  });

  it(`seed ${SEED}, ${CASES} cases: answered or closed in bounded time, nothing escapes, all still serve`, async () => {
    const rnd = seededRandom(SEED);
    const stuck: string[] = [];
    const batch = 24;
    for (let start = 0; start < CASES; start += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, CASES - start) }, async (_, k) => {
          const i = start + k;
          const plane = planes[Math.floor(rnd() * planes.length)]!;
          const input = mutate(corpus[Math.floor(rnd() * corpus.length)]!, rnd, corpus);
          const outcome = await probe(plane.h.port(), input);
          if (outcome === 'stuck')
            stuck.push(`case ${i} on ${plane.name}: ${JSON.stringify(input.toString('latin1').slice(0, 120))}`);
        }),
      );
    }
    assert.deepEqual(uncaught, [], `seed ${SEED}`);
    assert.deepEqual(stuck, [], `seed ${SEED}: connections neither answered nor closed within ${SETTLE_MS} ms`);
    const [sidecar, gatewayHttp] = planes.map((p) => p.h) as [Harness, Harness];
    assert.equal((await send(sidecar.port(), 'http://web.test/')).status, 200);
    assert.equal((await send(gatewayHttp.port(), '/', { headers: { host: 'web.test' } })).status, 200);
    for (const { h } of planes)
      assert.deepEqual(
        h.warnings.filter((w) => /unexpected|failed to answer/.test(w)),
        [],
      );
  });
});
