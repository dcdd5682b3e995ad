// The admin API client the CLI commands share. node:http rather than fetch: fetch loads undici on first use,
// which alone costs more than the rest of a client command's start-up.
import http from 'node:http';

export const DEFAULT_CONTROLLER = 'http://127.0.0.1:15010';

export function controllerUrl(option: string | undefined): string {
  return option ?? process.env.TOLLGATE_CONTROLLER ?? DEFAULT_CONTROLLER;
}

export class AdminClient {
  constructor(readonly base: string) {}

  async get<T>(path: string): Promise<{ status: number; body: T }> {
    return this.request<T>('GET', path);
  }

  async post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
    return this.request<T>('POST', path, body);
  }

  /** A streaming GET (logs -f): the response as it arrives. */
  async stream(path: string): Promise<http.IncomingMessage> {
    try {
      return await send('GET', new URL(path, this.base));
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    let res: http.IncomingMessage;
    try {
      res = await send(method, new URL(path, this.base), body);
    } catch (err) {
      throw this.unreachable(err);
    }
    const status = res.statusCode ?? 0;
    const text = await readText(res);
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      throw new Error(`controller at ${this.base} answered ${status} with a body that is not JSON`);
    }
    if (status >= 500 || status === 400 || (status === 404 && isError(parsed))) {
      throw new Error(isError(parsed) ? parsed.error : `controller answered ${status}`);
    }
    return { status, body: parsed as T };
  }

  private unreachable(err: unknown): Error {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return new Error(
      `cannot reach the controller at ${this.base} (${code}); ` +
        'is `tollgate up` running? Set --controller or TOLLGATE_CONTROLLER to point elsewhere',
    );
  }
}

/** One HTTP request; resolves with the response once its headers arrive. */
export function send(method: string, url: URL, body?: unknown): Promise<http.IncomingMessage> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      headers:
        payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
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
