// The plain Node forward proxy the bench compares against: node:http in, node:http out over a keep-alive agent,
// no routing, no logging. What someone writes in forty lines. Run as `node node-proxy.js PORT HOST=IP...`.
import http from 'node:http';

const [, , listen, ...mappings] = process.argv;
const [listenHost, listenPort] = listen!.split(':') as [string, string];
const hosts = new Map(mappings.map((m) => m.split('=') as [string, string]));
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end();
    return;
  }
  const upstream = http.request(
    {
      host: hosts.get(url.hostname) ?? url.hostname,
      port: url.port || 80,
      method: req.method,
      path: url.pathname + url.search,
      headers: req.headers,
      agent,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(listenPort), listenHost, () => process.send?.('ready'));
// Stopped with SIGTERM: exit normally, so that Node options such as --cpu-prof can write their output.
process.on('SIGTERM', () => process.exit(0));
