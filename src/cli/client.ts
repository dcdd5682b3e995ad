// The admin API client the CLI commands share.
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

  /** A streaming GET (logs -f): the raw response. */
  async stream(path: string): Promise<Response> {
    return this.fetch('GET', path);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.fetch(method, path, body);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      throw new Error(`controller at ${this.base} answered ${res.status} with a body that is not JSON`);
    }
    if (res.status >= 500 || res.status === 400 || (res.status === 404 && isError(parsed))) {
      throw new Error(isError(parsed) ? parsed.error : `controller answered ${res.status}`);
    }
    return { status: res.status, body: parsed as T };
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(new URL(path, this.base), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(
        `cannot reach the controller at ${this.base} (${cause?.code ?? cause?.message ?? (err as Error).message}); ` +
          'is `tollgate up` running? Set --controller or TOLLGATE_CONTROLLER to point elsewhere',
      );
    }
  }
}

function isError(body: unknown): body is { error: string } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}
