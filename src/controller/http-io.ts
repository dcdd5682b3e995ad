// Reading and answering HTTP requests at the controller's boundary: bodies bounded in size, JSON decoded with a
// typed decoder, and every refusal a status with a message (never a reset, never a 500 for bad input).
import type http from 'node:http';
import { type Decoder, DecodeError, decodeJson } from '../distribution/index.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export { BODY_LIMITS } from '../distribution/admin-api.js';

/**
 * Reads the body up to `limit` bytes. Over it, the answer is a 413 with a message: the rest of the body is read and
 * dropped (up to a bound) so that the client, still sending, gets to read the answer instead of a reset.
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = (): HttpError =>
      new HttpError(413, `request body over ${limit} bytes; send less at a time (e.g. apply fewer files at once)`);
    if (declared > limit) {
      drain(req, limit);
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        drain(req, limit);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Discards what is left of a refused body, and drops the connection if the client keeps sending far beyond it. */
function drain(req: http.IncomingMessage, limit: number): void {
  let extra = 0;
  req.on('data', (chunk: Buffer) => {
    extra += chunk.length;
    if (extra > 4 * limit) req.socket.destroy();
  });
  req.resume();
}

/** The body as JSON decoded by `decoder`; a decode failure is a 400 that names the field. */
export async function readJson<T>(req: http.IncomingMessage, decoder: Decoder<T>, limit: number): Promise<T> {
  const text = await readBody(req, limit);
  try {
    return decodeJson(decoder, text, 'the request body');
  } catch (err) {
    if (err instanceof DecodeError) throw new HttpError(400, err.message);
    throw err;
  }
}

/** A query parameter or path segment decoded; bad input is a 400 naming it. */
export function decodeParam<T>(decoder: Decoder<T>, value: unknown, name: string): T {
  try {
    return decoder(value, name);
  } catch (err) {
    if (err instanceof DecodeError) throw new HttpError(400, err.message);
    throw err;
  }
}

/** decodeURIComponent that answers 400 instead of throwing URIError on "%ZZ". */
export function pathSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `${name}: ${JSON.stringify(raw)} is not valid percent-encoding`);
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
