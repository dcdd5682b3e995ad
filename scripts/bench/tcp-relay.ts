// The floor under any proxy written in Node: each client connection gets one upstream connection and bytes are
// copied both ways, with no HTTP at all. Run as `node tcp-relay.js IP:PORT HOST=IP:PORT` (the first mapping's
// address is the upstream; the request target goes to it as the client sent it).
import net from 'node:net';

const [, , listen, mapping] = process.argv;
const [listenHost, listenPort] = listen!.split(':') as [string, string];
const [upstreamHost, upstreamPort] = mapping!.split('=')[1]!.split(':') as [string, string];

net
  .createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect({ host: upstreamHost, port: Number(upstreamPort) });
    upstream.setNoDelay(true);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  })
  .listen(Number(listenPort), listenHost);

process.on('SIGTERM', () => process.exit(0));
