// The admin API client the CLI commands share, and how it finds the controller and its admin token. node:http
// rather than fetch: fetch loads undici on first use, which alone costs more than the rest of a client command's
// start-up.
import fs from 'node:fs';
import http from 'node:http';
import { BODY_LIMITS, tokenPath } from '../distribution/admin-api.js';

export const DEFAULT_CONTROLLER = 'http://127.0.0.1:15010';
export const DEFAULT_CONFIG_DIR = './mesh';

export function controllerUrl(option: string | undefined): string {
  return option ?? process.env.TOLLGATE_CONTROLLER ?? DEFAULT_CONTROLLER;
}

/** The config directory: --config-dir, else TOLLGATE_CONFIG_DIR, else ./mesh (what `tollgate up` uses by default). */
export function configDir(option: string | undefined): string {
  return option || process.env.TOLLGATE_CONFIG_DIR || DEFAULT_CONFIG_DIR;
}

export interface TokenSource {
  readonly path: string;
  /** How the path was chosen, for messages. */
  readonly from: string;
}

/**
 * Where a token is looked for, as kubectl looks for its kubeconfig: the flag, then the environment, then the config
 * directory (the same default as `tollgate up`, so that the CLI run from where `up` runs needs no flags).
 */
export function tokenSource(
  role: 'admin' | 'proxy',
  opts: { tokenFile?: string; configDir?: string },
  env: { tokenFile?: string } = { tokenFile: process.env.TOLLGATE_TOKEN_FILE },
): TokenSource {
  if (opts.tokenFile) return { path: opts.tokenFile, from: '--token-file' };
  if (env.tokenFile) return { path: env.tokenFile, from: 'TOLLGATE_TOKEN_FILE' };
  const from = opts.configDir
    ? '--config-dir'
    : process.env.TOLLGATE_CONFIG_DIR
      ? 'TOLLGATE_CONFIG_DIR'
      : `the default config directory ${DEFAULT_CONFIG_DIR}`;
  return { path: tokenPath(configDir(opts.configDir), role), from };
}

/** The token in the file, or undefined when there is none to read. */
export function readToken(source: TokenSource): string | undefined {
  try {
    const token = fs.readFileSync(source.path, 'utf8').trim();
    return token.length > 0 ? token : undefined;
  } catch {
    return undefined;
  }
}

export class AdminClient {
  private token: string | undefined | null = null;

  constructor(
    readonly base: string,
    private readonly tokens: TokenSource,
  ) {}

  async get<T>(path: string): Promise<{ status: number; body: T }> {
    return this.request<T>('GET', path);
  }

  async post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
    return this.request<T>('POST', path, body);
  }

  /** A streaming GET (logs -f): the response as it arrives. */
  async stream(path: string): Promise<http.IncomingMessage> {
    const res = await this.send('GET', path);
    const status = res.statusCode ?? 0;
    if (status === 401 || status === 403) throw new Error(this.refused(status, await readText(res)));
    return res;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.send(method, path, body);
    const status = res.statusCode ?? 0;
    const text = await readText(res);
    if (status === 401 || status === 403) throw new Error(this.refused(status, text));
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      throw new Error(`controller at ${this.base} answered ${status} with a body that is not JSON`);
    }
    if (status >= 500 || status === 400 || status === 413 || (status === 404 && isError(parsed))) {
      throw new Error(isError(parsed) ? parsed.error : `controller answered ${status}`);
    }
    return { status, body: parsed as T };
  }

  /** What to do about a refused credential: which file was read (or missing), and how to point at the right one. */
  private refused(status: number, text: string): string {
    let said = '';
    try {
      const body: unknown = JSON.parse(text);
      if (isError(body)) said = `: ${body.error}`;
    } catch {
      // no message from the controller
    }
    const fix =
      "run the command from the directory where `tollgate up` runs, or pass --config-dir DIR (the controller's " +
      '--config-dir) or --token-file FILE (or set TOLLGATE_CONFIG_DIR / TOLLGATE_TOKEN_FILE)';
    const read =
      this.token === undefined
        ? `no admin token found at ${this.tokens.path} (from ${this.tokens.from})`
        : `the admin token from ${this.tokens.path} (from ${this.tokens.from}) was not accepted`;
    return `the controller at ${this.base} refused the request (${status}${said}).\n  ${read};\n  ${fix}`;
  }

  private async send(method: string, path: string, body?: unknown): Promise<http.IncomingMessage> {
    if (this.token === null) this.token = readToken(this.tokens);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined && Buffer.byteLength(payload) > BODY_LIMITS.admin) {
      throw new Error(
        `the request is ${(Buffer.byteLength(payload) / 1024 / 1024).toFixed(1)} MB; the controller takes at most ` +
          `${BODY_LIMITS.admin / 1024 / 1024} MB at a time: apply the files in smaller groups`,
      );
    }
    try {
      return await send(method, new URL(path, this.base), payload, this.token);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(
        `cannot reach the controller at ${this.base} (${code}); ` +
          'is `tollgate up` running? Set --controller or TOLLGATE_CONTROLLER to point elsewhere',
      );
    }
  }
}

/** One HTTP request with a JSON body (already serialized); resolves with the response once its headers arrive. */
export function send(method: string, url: URL, payload?: string, token?: string): Promise<http.IncomingMessage> {
  const headers: Record<string, string | number> = {};
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(payload);
  });
}

export async function readText(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function isError(body: unknown): body is { error: string } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}
