// Envoy's drain: a draining listener closes idle keep-alive connections at once, serves what is in flight and what
// still arrives (each response closing its connection), and closes once no connection is left.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { it } from 'node:test';
import { eventually } from '../../test/helpers/eventually.js';
import { allowAny, sidecarConfig, startPlane, startUpstream } from './testing/fixtures.js';

function get(port: number, agent: Agent, path = '/'): Promise<{ status: number; connection?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: 'example.test' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('drain: idle connections close at once, in-flight and new requests are served with Connection: close, then it closes', async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/slow') void held.then(() => res.end('slow'));
    else res.end('fast');
  });
  const h = await startPlane(sidecarConfig({ defaultRoute: allowAny }), {});
  try {
    const port = h.port();
    const connectTo = `http://127.0.0.1:${upstream.port}`;
    const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const busyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await get(port, idleAgent, `${connectTo}/`)).status, 200);
    const idleSocket = Object.values(idleAgent.freeSockets).flat()[0] as Socket;
    let idleClosed = false;
    idleSocket.once('close', () => (idleClosed = true));
    const slow = get(port, busyAgent, `${connectTo}/slow`);
    await eventually(() => (upstream.seen.some((s) => s.url === '/slow') ? true : undefined));

    let drained = false;
    const draining = h.plane.drain(5_000).then(() => (drained = true));
    await eventually(() => (idleClosed ? true : undefined), 2_000, 'the idle keep-alive connection closed');
    // A request arriving during the drain is served, and told the connection closes.
    const late = await get(port, new Agent({ keepAlive: true }), `${connectTo}/`);
    assert.deepEqual([late.status, late.connection], [200, 'close']);
    assert.equal(drained, false, 'the request in flight holds the drain');
    release();
    const answered = await slow;
    assert.deepEqual([answered.status, answered.body, answered.connection], [200, 'slow', 'close']);
    await draining;
    // Closed: nothing listens any more.
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    assert.ok(refused, 'the listener is closed after the drain');
  } finally {
    release();
    await h.close();
    await upstream.close();
  }
});
