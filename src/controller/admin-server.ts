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
//   GET  /healthz                      no credential needed: liveness only
// Extra routes (local mode's logs) are added by the embedding runtime.
//
// Every endpoint but /healthz needs a credential (credentials.ts): the discovery endpoints the proxy join token,
// everything else the admin token. Every body, query parameter and path segment is decoded at the boundary; bad
// input is a 4xx with a message that names the field, never a 500.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ACK_PATH,
  array,
  boolean,
  DISCOVERY_PATH,
  DRAIN_PATH,
  integer,
  object,
  oneOf,
  optional,
  string,
  type Decoder,
} from '../distribution/index.js';
import { KINDS } from '../model/index.js';
import type { Controller, SubmittedFile } from './controller.js';
import type { Authenticator, Role } from './credentials.js';
import { discoveryAck, discoveryDrain, discoveryStream } from './discovery-endpoint.js';
import { BODY_LIMITS, decodeParam, HttpError, pathSegment, readJson, sendJson } from './http-io.js';

export { HttpError, sendJson } from './http-io.js';

export type ExtraRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
  /**
   * Graceful shutdown: stops accepting, lets requests in flight (an apply, a status) finish for up to `graceMs`,
   * then closes every connection; long-lived streams (discovery, followed logs) are not waited for.
   */
  drain(graceMs: number): Promise<void>;
}

export interface AdminServerOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly auth: Authenticator;
  readonly extraRoutes?: readonly ExtraRoute[];
}

export async function startAdminServer(controller: Controller, options: AdminServerOptions): Promise<AdminServer> {
  const { listen } = options;
  // Requests a drain waits for: everything but the streams that never end by themselves.
  const inFlight = new Set<http.ServerResponse>();
  let idle: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    if (!isStream(req)) {
      inFlight.add(res);
      res.once('close', () => {
        inFlight.delete(res);
        if (inFlight.size === 0) idle?.();
      });
    }
    void handle(controller, options, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) {
        // A refused body may still be arriving: answer, and close once the answer is out.
        if (status === 413) res.setHeader('connection', 'close');
        sendJson(res, status, { error: message });
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `controller cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}` +
            (err.code === 'EADDRINUSE'
              ? ` (something else listens there, another tollgate perhaps: stop it, or pass --listen ${listen.host}:PORT with another port)`
              : ''),
        ),
      ),
    );
    server.listen(listen.port, listen.host, resolve);
  });
  const address = server.address() as AddressInfo;
  if (!isLoopback(address.address)) {
    controller.emit(
      'warning',
      `the controller's API on ${address.address}:${address.port} is plain HTTP: its tokens cross the network in clear`,
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
    drain: async (graceMs) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

function isStream(req: http.IncomingMessage): boolean {
  const url = req.url ?? '';
  return url.startsWith(DISCOVERY_PATH) && !url.startsWith(`${DISCOVERY_PATH}/`) ? true : /[?&]follow=1/.test(url);
}

const files: Decoder<SubmittedFile[]> = array(object({ name: string({ maxLength: 4096 }), content: string() }), 10_000);
const kind = oneOf(KINDS);
const objectName = string({ maxLength: 253 });
const decodeApply = object({ files, dryRun: optional(boolean) });
const decodeDelete = object({
  refs: optional(array(object({ kind, namespace: objectName, name: objectName }), 10_000)),
  files: optional(files),
});
const decodeAnalyze = object({ files: optional(files) });
const version = string({ pattern: /^\d{1,15}$/, expected: 'a version (digits)' });
const milliseconds = integer(0, 600_000);
const optionalQuery = <T>(url: URL, key: string, decoder: Decoder<T>): T | undefined => {
  const raw = url.searchParams.get(key);
  return raw === null ? undefined : decodeParam(decoder, raw, key);
};

function authorize(options: AdminServerOptions, req: http.IncomingMessage, role: Role): void {
  const result = options.auth.authenticate(req, role);
  if (!result.ok) throw new HttpError(result.status, result.error);
}

async function handle(
  controller: Controller,
  options: AdminServerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://controller');
  } catch {
    throw new HttpError(400, `malformed request target ${JSON.stringify(req.url)}`);
  }
  const route = `${req.method} ${url.pathname}`;
  if (route === 'GET /healthz') return sendJson(res, 200, { ok: true, version: controller.snapshot.version });
  if (route === `POST ${DISCOVERY_PATH}` || route === `POST ${ACK_PATH}` || route === `POST ${DRAIN_PATH}`) {
    authorize(options, req, 'proxy');
    if (route === `POST ${DISCOVERY_PATH}`) return discoveryStream(controller, req, res);
    return route === `POST ${ACK_PATH}` ? discoveryAck(controller, req, res) : discoveryDrain(controller, req, res);
  }
  authorize(options, req, 'admin');
  switch (route) {
    case 'POST /v1/apply': {
      const body = await readJson(req, decodeApply, BODY_LIMITS.admin);
      if (body.files.length === 0) throw new HttpError(400, 'files: expected at least one file');
      const result = await controller.apply(body.files, body.dryRun === true);
      return sendJson(res, result.ok ? 200 : 422, result);
    }
    case 'POST /v1/delete': {
      const body = await readJson(req, decodeDelete, BODY_LIMITS.admin);
      const result = await controller.delete(body.refs ?? [], body.files ?? []);
      return sendJson(res, result.ok ? 200 : result.changes.length > 0 ? 207 : 404, result);
    }
    case 'GET /v1/resources': {
      const k = optionalQuery(url, 'kind', kind);
      const namespace = optionalQuery(url, 'namespace', objectName);
      const name = optionalQuery(url, 'name', objectName);
      const resources = controller
        .resources()
        .filter(
          (r) =>
            (!k || r.kind === k) && (!namespace || r.meta.namespace === namespace) && (!name || r.meta.name === name),
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
      const body = await readJson(req, decodeAnalyze, BODY_LIMITS.admin);
      return sendJson(res, 200, {
        version: controller.snapshot.version,
        diagnostics: controller.analyzeWith(body.files ?? []),
      });
    }
    case 'GET /v1/diagnostics':
      return sendJson(res, 200, { version: controller.snapshot.version, diagnostics: controller.diagnostics() });
    case 'GET /v1/wait': {
      const target = optionalQuery(url, 'version', version) ?? controller.snapshot.version;
      const timeoutMs = optionalQuery(url, 'timeoutMs', (v, p) => milliseconds(Number(v), p)) ?? 30_000;
      const result = await controller.waitForSync(target, timeoutMs);
      return sendJson(res, 200, { version: target, ...result });
    }
  }
  const configMatch = /^\/v1\/proxies\/([^/]+)\/([^/]+)\/config$/.exec(url.pathname);
  if (req.method === 'GET' && configMatch) {
    const namespace = pathSegment(configMatch[1]!, 'namespace');
    const name = pathSegment(configMatch[2]!, 'name');
    const config = controller.configFor(name, namespace);
    if (!config) throw new HttpError(404, `no connected proxy ${name}.${namespace}`);
    return sendJson(res, 200, config);
  }
  for (const extra of options.extraRoutes ?? []) if (await extra(req, res, url)) return;
  throw new HttpError(404, `no such endpoint: ${route}`);
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
