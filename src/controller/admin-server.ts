// The controller's HTTP server: the discovery stream for proxies and the admin API for the CLI.
//
//   POST /v1/discovery                 proxies: NDJSON config stream (see distribution/protocol.ts)
//   POST /v1/discovery/ack             proxies: ACK / NACK
//   POST /v1/apply    {files, dryRun}  validate, then persist all or nothing
//   POST /v1/delete   {refs, files}
//   GET  /v1/resources?kind&namespace&name
//   GET  /v1/status                    each proxy, its versions and whether it is in sync
//   GET  /v1/wait?version&timeoutMs    until every declared proxy has ACKed `version`
//   GET  /v1/diagnostics               findings about the configuration in force
//   POST /v1/analyze  {files}          findings with the files merged over the configuration in force
//   GET  /v1/proxies/:ns/:name/config  the config the controller would push to that proxy
//   GET  /healthz
// Extra routes (local mode's logs) are added by the embedding runtime.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ACK_PATH,
  DISCOVERY_PATH,
  PING_INTERVAL_MS,
  type AckRequest,
  type DiscoveryRequest,
  type ServerMessage,
} from '../distribution/index.js';
import { KINDS, type Kind } from '../model/index.js';
import type { ProxyConfig } from '../proxy-config/types.js';
import type { Controller, ProxyStream, ResourceRef, SubmittedFile } from './controller.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export type ExtraRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean | Promise<boolean>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(
  controller: Controller,
  listen: { host: string; port: number },
  extraRoutes: readonly ExtraRoute[] = [],
): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    void handle(controller, extraRoutes, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`controller cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}`)),
    );
    server.listen(listen.port, listen.host, resolve);
  });
  const address = server.address() as AddressInfo;
  if (!isLoopback(address.address)) {
    controller.emit(
      'warning',
      `the admin API on ${address.address}:${address.port} has no authentication: anyone who can reach it can change the mesh`,
    );
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  controller: Controller,
  extraRoutes: readonly ExtraRoute[],
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://controller');
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case `POST ${DISCOVERY_PATH}`:
      return discovery(controller, req, res);
    case `POST ${ACK_PATH}`: {
      const ack = (await readJson(req)) as AckRequest;
      controller.ack(ack.nodeId, ack.version, ack.ok, ack.error);
      return sendJson(res, 200, {});
    }
    case 'POST /v1/apply': {
      const body = (await readJson(req)) as { files?: SubmittedFile[]; dryRun?: boolean };
      const files = checkFiles(body.files);
      const result = await controller.apply(files, body.dryRun === true);
      return sendJson(res, result.ok ? 200 : 422, result);
    }
    case 'POST /v1/delete': {
      const body = (await readJson(req)) as { refs?: ResourceRef[]; files?: SubmittedFile[] };
      const refs = (body.refs ?? []).map((r) => ({ ...r, kind: checkKind(r.kind) }));
      const result = await controller.delete(refs, body.files && body.files.length > 0 ? checkFiles(body.files) : []);
      return sendJson(res, result.ok ? 200 : result.changes.length > 0 ? 207 : 404, result);
    }
    case 'GET /v1/resources': {
      const kind = url.searchParams.get('kind');
      const namespace = url.searchParams.get('namespace');
      const name = url.searchParams.get('name');
      const resources = controller
        .resources()
        .filter(
          (r) =>
            (!kind || r.kind === kind) &&
            (!namespace || r.meta.namespace === namespace) &&
            (!name || r.meta.name === name),
        )
        .map((r) => ({
          kind: r.kind,
          apiVersion: r.apiVersion,
          namespace: r.meta.namespace,
          name: r.meta.name,
          source: r.source,
          created: controller.createdAt(r),
          text: r.text,
        }));
      return sendJson(res, 200, { version: controller.snapshot.version, resources });
    }
    case 'GET /v1/status':
      return sendJson(res, 200, controller.status());
    case 'POST /v1/analyze': {
      const body = (await readJson(req)) as { files?: SubmittedFile[] };
      const files = body.files && body.files.length > 0 ? checkFiles(body.files) : [];
      return sendJson(res, 200, { version: controller.snapshot.version, diagnostics: controller.analyzeWith(files) });
    }
    case 'GET /v1/diagnostics':
      return sendJson(res, 200, { version: controller.snapshot.version, diagnostics: controller.diagnostics() });
    case 'GET /v1/wait': {
      const version = url.searchParams.get('version') ?? controller.snapshot.version;
      const timeoutMs = Math.min(Number(url.searchParams.get('timeoutMs') ?? 30_000), 600_000);
      const result = await controller.waitForSync(version, Number.isFinite(timeoutMs) ? timeoutMs : 30_000);
      return sendJson(res, 200, { version, ...result });
    }
    case 'GET /healthz':
      return sendJson(res, 200, { ok: true, version: controller.snapshot.version });
  }
  const configMatch = /^\/v1\/proxies\/([^/]+)\/([^/]+)\/config$/.exec(url.pathname);
  if (req.method === 'GET' && configMatch) {
    const config = controller.configFor(decodeURIComponent(configMatch[2]!), decodeURIComponent(configMatch[1]!));
    if (!config) throw new HttpError(404, `no connected proxy ${configMatch[2]}.${configMatch[1]}`);
    return sendJson(res, 200, config);
  }
  for (const extra of extraRoutes) if (await extra(req, res, url)) return;
  throw new HttpError(404, `no such endpoint: ${route}`);
}

function discovery(controller: Controller, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  return readJson(req).then((body) => {
    const request = body as DiscoveryRequest;
    const node = request.node;
    if (
      !node ||
      typeof node.id !== 'string' ||
      typeof node.ip !== 'string' ||
      (node.type !== 'sidecar' && node.type !== 'router')
    ) {
      throw new HttpError(400, 'discovery request needs a node {id, type, name, namespace, ip, labels}');
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    const write = (message: ServerMessage): void => {
      res.write(`${JSON.stringify(message)}\n`);
    };
    const stream: ProxyStream = {
      send: (version: string, config: ProxyConfig) => write({ type: 'config', version, config }),
      close: () => res.end(),
    };
    const ping = setInterval(() => write({ type: 'ping' }), PING_INTERVAL_MS);
    const gone = (): void => {
      clearInterval(ping);
      controller.disconnect(node.id, stream);
    };
    res.on('close', gone);
    controller.connect(node, stream);
  });
}

function checkFiles(files: unknown): SubmittedFile[] {
  if (!Array.isArray(files) || files.length === 0) throw new HttpError(400, 'expected {files: [{name, content}]}');
  return files.map((f: unknown, i) => {
    const file = f as Partial<SubmittedFile>;
    if (typeof file?.name !== 'string' || typeof file.content !== 'string') {
      throw new HttpError(400, `files[${i}] needs a string name and content`);
    }
    return { name: file.name, content: file.content };
  });
}

function checkKind(kind: unknown): Kind {
  if (typeof kind === 'string' && (KINDS as readonly string[]).includes(kind)) return kind as Kind;
  throw new HttpError(400, `unknown kind ${String(kind)}`);
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text.length === 0 ? {} : JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, `malformed JSON body: ${(err as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
