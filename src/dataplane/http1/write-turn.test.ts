// Writes held to the end of the event loop's turn: when they are held, that they all leave, in order, at the end of
// the turn or before a cut, and that the servers' count of requests in flight comes back to zero.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { serveHttp1 } from './server.js';
import { RawClient } from './testing/raw-client.js';
import type { DownstreamRequest, DownstreamResponse } from './types.js';
import { beforeWrite, destroyAfterHeld, requestsInFlight, writeTurnState } from './write-turn.js';

const LIMITS = { maxHeaderBytes: 60 * 1024, headersTimeoutMs: undefined, idleTimeoutMs: 60_000 };

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

/** Pretends `n` more requests are in flight until the test ends. */
function load(n: number): void {
  for (let i = 0; i < n; i++) requestsInFlight(1);
  cleanup.push(() => {
    for (let i = 0; i < n; i++) requestsInFlight(-1);
  });
}

/** A connected pair of loopback sockets: the one written to, and a client reading from it. */
async function pair(): Promise<{ socket: Socket; client: RawClient }> {
  const server: Server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const [client, socket] = await Promise.all([RawClient.open((server.address() as { port: number }).port), accepted]);
  cleanup.push(() => {
    client.socket.destroy();
    socket.destroy();
    server.close();
  });
  return { socket, client };
}

const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('writes held to the end of the turn', () => {
  it('leave at once while at most one request is in flight', async () => {
    const { socket } = await pair();
    load(1);
    beforeWrite(socket);
    socket.write('a');
    assert.equal(socket.writableCorked, 0);
    assert.equal(writeTurnState().held, 0);
  });

  it('are held while several are in flight, and leave in order at the end of the turn', async () => {
    const { socket, client } = await pair();
    const other = await pair();
    load(2);
    beforeWrite(socket);
    socket.write('one,');
    beforeWrite(other.socket);
    other.socket.write('x');
    beforeWrite(socket);
    socket.write('two');
    assert.equal(socket.writableCorked, 1, 'corked once however many writes');
    assert.equal(other.socket.writableCorked, 1);
    assert.equal(writeTurnState().held, 2);
    await turnEnd();
    assert.equal(socket.writableCorked, 0);
    assert.equal(other.socket.writableCorked, 0);
    assert.equal(writeTurnState().held, 0);
    assert.equal(await client.until((t) => t === 'one,two'), 'one,two');
    assert.equal(await other.client.until((t) => t === 'x'), 'x');
  });

  it("a socket's own cork and uncork inside the turn keep it held", async () => {
    const { socket, client } = await pair();
    load(2);
    beforeWrite(socket);
    socket.cork();
    socket.write('head|');
    socket.write('body');
    socket.uncork();
    assert.equal(socket.writableCorked, 1);
    await turnEnd();
    assert.equal(await client.until((t) => t === 'head|body'), 'head|body');
  });

  it('destroyAfterHeld sends what is held before the cut, and the end of the turn skips that socket', async () => {
    const { socket, client } = await pair();
    load(2);
    beforeWrite(socket);
    socket.write('last words');
    destroyAfterHeld(socket);
    assert.equal(socket.writableCorked, 0);
    assert.equal(writeTurnState().held, 0);
    await client.until(() => client.ended || client.closed);
    assert.equal(client.text, 'last words');
  });

  it("one held socket whose write throws is cut; the turn's other sockets still write", async () => {
    const { socket, client } = await pair();
    load(2);
    let cut: Error | undefined;
    const broken = {
      cork() {},
      uncork() {
        throw new Error('write failed');
      },
      destroy(err?: Error) {
        cut = err;
      },
    } as unknown as Socket;
    beforeWrite(broken);
    beforeWrite(socket);
    socket.write('still here');
    await turnEnd();
    assert.equal(cut?.message, 'write failed');
    assert.equal(socket.writableCorked, 0);
    assert.equal(await client.until((t) => t === 'still here'), 'still here');
  });

  it('end() on a held socket sends what is held, then the FIN', async () => {
    const { socket, client } = await pair();
    load(2);
    beforeWrite(socket);
    socket.write('bye');
    socket.end();
    await client.until(() => client.ended);
    assert.equal(client.text, 'bye');
    await turnEnd();
    assert.equal(writeTurnState().held, 0);
  });
});

describe('requests in flight, as the server counts them', () => {
  async function serve(request: (req: DownstreamRequest, res: DownstreamResponse) => void): Promise<number> {
    const server = createServer((socket) =>
      serveHttp1(
        socket,
        {
          request,
          upgrade: (_req, res) => res.destroy(),
          connect: (_req, s) => s.destroy(),
          clientError: (_k, _d, s) => s.destroy(),
        },
        LIMITS,
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => server.close());
    return (server.address() as { port: number }).port;
  }

  const closedOrIdle = async (): Promise<void> => {
    for (let i = 0; i < 100 && writeTurnState().inFlight !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('rises with concurrent requests and falls back to zero when they are answered or cut', async () => {
    const waiting: DownstreamResponse[] = [];
    const port = await serve((_req, res) => waiting.push(res));
    const before = writeTurnState().inFlight;
    const clients = await Promise.all([RawClient.open(port), RawClient.open(port), RawClient.open(port)]);
    for (const c of clients) {
      cleanup.push(() => c.socket.destroy());
      await c.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
    }
    for (let i = 0; i < 100 && waiting.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(writeTurnState().inFlight, before + 3);
    // Answered: the two responses are held for the end of the turn (three in flight), and both arrive whole.
    for (const res of waiting.slice(0, 2)) {
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
    }
    assert.ok(writeTurnState().held >= 1);
    for (const c of clients.slice(0, 2)) await c.until((t) => t.endsWith('\r\n\r\nok'));
    // Cut: the client goes away with its request unanswered.
    clients[2]!.socket.destroy();
    await closedOrIdle();
    assert.equal(writeTurnState().inFlight, before);
  });

  it('a response cut mid-body under load still delivers the bytes written before the cut', async () => {
    let cut: DownstreamResponse | undefined;
    const port = await serve((_req, res) => {
      cut = res;
    });
    load(2);
    const client = await RawClient.open(port);
    cleanup.push(() => client.socket.destroy());
    await client.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
    for (let i = 0; i < 100 && cut === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    const res = cut!;
    res.writeHead(200, { 'content-length': 100 });
    res.write(Buffer.from('partial'));
    res.destroy();
    await client.until(() => client.ended || client.closed);
    assert.match(client.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\npartial$/);
  });
});
