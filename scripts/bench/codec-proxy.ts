// tollgate's HTTP/1.1 codec as a bare forward proxy, the floor under the sidecar: the listener's server side and the
// upstream pool, with hop-by-hop headers dropped and nothing else (no routing, no access log, no retries). The gap
// between this and the sidecar is what the data plane does around the codec. Run as
// `node codec-proxy.js IP:PORT HOST=IP:PORT...`.
import net from 'node:net';
import { ForwardedHeaders, rawWithoutHopByHop } from '../../src/dataplane/headers.js';
import { serveHttp1, type ServerHandlers } from '../../src/dataplane/http1/server.js';
import { UpstreamPool } from '../../src/dataplane/http1/pool.js';
import { parseRequestTarget } from '../../src/dataplane/request-target.js';
import { splitAuthority } from '../../src/dataplane/request-view.js';

const [, , listen, ...mappings] = process.argv;
const [listenHost, listenPort] = listen!.split(':') as [string, string];
const hosts = new Map(
  mappings.map((m) => {
    const [host, to] = m.split('=') as [string, string];
    const [ip, port] = to.split(':') as [string, string];
    return [host, { ip, port: Number(port) }];
  }),
);
const pool = new UpstreamPool({ maxConnections: Number.POSITIVE_INFINITY });

const handlers: ServerHandlers = {
  request(req, res) {
    const target = parseRequestTarget(req);
    const to = hosts.get(splitAuthority(target.authority ?? '').host);
    if (!to) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    pool.exchange(
      {
        ip: to.ip,
        port: to.port,
        localAddress: undefined,
        method: req.method,
        path: target.pathAndQuery,
        headers: new ForwardedHeaders(req.headers),
        hasBody: req.hasBody,
      },
      {
        onSocket() {},
        onConnected() {},
        onResponse(up) {
          // As the sidecar writes a response its route does not change: the lines as they came.
          res.writeHead(up.statusCode, rawWithoutHopByHop(up.rawHeaders, 'x-envoy-upstream-service-time', '0'));
          up.onData((chunk) => res.write(chunk));
          up.onEnd(() => res.end());
          up.onAborted(() => res.destroy());
        },
        onUpgrade(_up, socket) {
          socket.destroy();
          res.destroy();
        },
        onError() {
          res.writeHead(502, { 'content-length': 0 });
          res.end();
        },
      },
    );
  },
  upgrade: (_req, res) => res.destroy(),
  connect: (_req, socket) => socket.destroy(),
  clientError: (_kind, _detail, socket) => socket.destroy(),
};

net
  .createServer((socket) => {
    socket.on('error', () => {});
    serveHttp1(socket, handlers, { maxHeaderBytes: 60 * 1024, headersTimeoutMs: 60_000, idleTimeoutMs: 3_600_000 });
  })
  .listen(Number(listenPort), listenHost, () => process.send?.('ready'));
// Stopped with SIGTERM: exit normally, so that Node options such as --cpu-prof can write their output.
process.on('SIGTERM', () => process.exit(0));
