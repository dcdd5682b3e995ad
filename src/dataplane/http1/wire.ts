// HTTP/1.1 on the wire (RFC 9112), shared by the listener's server side and the upstream client: finding and
// parsing a message head, and how its body is delimited. Chunked bodies are chunked.ts; writing heads is
// head-writer.ts. Strict where a front end and a back end could disagree on framing (request smuggling): every
// shape llhttp refuses is refused here too.
import type { IncomingHttpHeaders } from 'node:http';
import { fieldKey } from './field-keys.js';
import { IS_TOKEN, REQUEST_HEAD, RESPONSE_HEAD } from './head-grammar.js';

export type WireErrorKind = 'malformed' | 'headers_too_large';

/** A message that cannot be parsed; the message says what was wrong. */
export class WireError extends Error {
  readonly kind: WireErrorKind;
  constructor(kind: WireErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** Responses only: the body runs until the connection closes. */
  | { readonly kind: 'close' };

const NO_BODY: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const UNTIL_CLOSE: Framing = { kind: 'close' };

export const CR = 13;
export const LF = 10;
const DIGIT_ZERO = 0x30;
const DIGIT_ONE = 0x31;

/**
 * Index just past the CRLF CRLF that ends a message head starting at `from`, or -1 when the head is not complete in
 * buf. A bare LF (one not preceded by CR) is refused rather than taken as a line end: two parsers that disagree on
 * line ends disagree on where headers end.
 */
export function findHeadEnd(buf: Buffer, from: number, maxBytes: number): number {
  let lf = buf.indexOf(LF, from);
  while (lf >= 0) {
    if (lf === from || buf[lf - 1] !== CR) throw new WireError('malformed', 'a line ends in a bare LF');
    // An empty line: CRLF right after the previous line's CRLF.
    if (lf - from >= 3 && buf[lf - 2] === LF && buf[lf - 3] === CR) {
      if (lf + 1 - from > maxBytes) throw new WireError('headers_too_large', `the head exceeds ${maxBytes} bytes`);
      return lf + 1;
    }
    lf = buf.indexOf(LF, lf + 1);
  }
  if (buf.length - from > maxBytes) throw new WireError('headers_too_large', `the head exceeds ${maxBytes} bytes`);
  return -1;
}

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly versionMinor: 0 | 1;
  /** Names as sent and values trimmed, alternating. */
  readonly rawHeaders: string[];
  /** Lower-cased names, duplicates combined as node:http combines them. */
  readonly headers: IncomingHttpHeaders;
  /** Never 'close' for a request. */
  readonly framing: Framing;
  /** HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`. */
  readonly keepAlive: boolean;
  /** An Upgrade header and a Connection header listing "upgrade". */
  readonly upgrade: boolean;
  /** `Expect: 100-continue`. */
  readonly expectContinue: boolean;
}

export interface ResponseHead {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly versionMinor: 0 | 1;
  /** Names as sent and values trimmed, alternating; combineHeaders() makes the object when one is wanted. */
  readonly rawHeaders: string[];
  /** The (first) `Keep-Alive` header's value, for the idle timeout it announces. */
  readonly keepAliveHint: string | undefined;
  readonly framing: Framing;
  /** The connection may carry another request after this response. */
  readonly keepAlive: boolean;
}

/** tchar by character code, for header names (checked on every line: a table, not a regular expression). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TCHAR[c.charCodeAt(0)] = 1;
/** Control characters other than HTAB, by byte: never allowed in a head (CR only as part of CRLF). */
const CONTROL = new Uint8Array(256);
for (let c = 0; c < 32; c++) if (c !== 9) CONTROL[c] = 1;
CONTROL[127] = 1;
const REQUEST_VERSION = /^HTTP\/1\.([01])$/;
const DIGITS = /^\d+$/;

/** The fields of a head, with what framing and connection handling need, gathered in one pass. */
interface Fields {
  readonly raw: string[];
  readonly headers: IncomingHttpHeaders;
  contentLength: string | undefined;
  contentLengthCount: number;
  /** Host lines, counted where the headers object is made (requests). */
  hostCount: number;
  transferEncoding: string | undefined;
  connection: string | undefined;
  keepAlive: string | undefined;
}

/**
 * Parses the field lines of `text` from `start` (the first field line) to its end (the empty line). With `combined`,
 * also the headers object (names lower-cased, duplicates combined); without, only the names the framing needs are
 * looked at (by length first), and no name is lower-cased. With `proven`, the text matched its head pattern, which
 * holds every line to be a well-formed field line, so the lines are not checked again.
 */
function parseFields(text: string, start: number, combined: boolean, proven: boolean): Fields {
  const raw: string[] = [];
  const headers: IncomingHttpHeaders = combined ? {} : NO_HEADERS;
  const f: Fields = {
    raw,
    headers,
    contentLength: undefined,
    contentLengthCount: 0,
    hostCount: 0,
    transferEncoding: undefined,
    connection: undefined,
    keepAlive: undefined,
  };
  let pos = start;
  for (;;) {
    let colon: number;
    let eol: number;
    if (proven) {
      // Each line is name ":" value CRLF, and the last is empty.
      if (text.charCodeAt(pos) === CR) return f;
      colon = text.indexOf(':', pos);
      eol = text.indexOf('\r', colon);
    } else {
      eol = text.indexOf('\r\n', pos);
      if (eol === pos || eol < 0) return f;
      colon = text.indexOf(':', pos);
      checkFieldLine(text, pos, colon, eol);
    }
    const name = text.slice(pos, colon);
    const value = trimmed(text, colon + 1, eol);
    raw.push(name, value);
    let key: string | undefined;
    if (combined) {
      key = fieldKey(name);
      combine(headers, key, value);
    } else {
      const length = colon - pos;
      if (length === 10 || length === 14 || length === 17) key = fieldKey(name);
    }
    switch (key) {
      case 'content-length':
        f.contentLength = value;
        f.contentLengthCount++;
        break;
      case 'transfer-encoding':
        f.transferEncoding = f.transferEncoding === undefined ? value : `${f.transferEncoding}, ${value}`;
        break;
      case 'connection':
        f.connection = f.connection === undefined ? value : `${f.connection}, ${value}`;
        break;
      case 'keep-alive':
        // The first, as the combined value would start with it.
        if (f.keepAlive === undefined) f.keepAlive = value;
        break;
      case 'host':
        f.hostCount++;
        break;
    }
    pos = eol + 2;
  }
}

function checkFieldLine(text: string, pos: number, colon: number, eol: number): void {
  const first = text.charCodeAt(pos);
  if (first === 32 || first === 9) throw new WireError('malformed', 'obs-fold (a header line continued)');
  if (colon < 0 || colon > eol) throw new WireError('malformed', 'a header line without a colon');
  if (!isToken(text, pos, colon)) {
    throw new WireError('malformed', `invalid header name ${JSON.stringify(text.slice(pos, colon))}`);
  }
}

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** The headers object of a message's raw headers: names lower-cased, duplicates combined as node:http does. */
export function combineHeaders(raw: readonly string[]): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) combine(headers, raw[i]!.toLowerCase(), raw[i + 1]!);
  return headers;
}

// node:http keeps the first of these when they repeat (IncomingMessage's matchKnownFields).
const FIRST_WINS = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

function combine(headers: IncomingHttpHeaders, key: string, value: string): void {
  const existing = headers[key];
  if (existing === undefined) {
    headers[key] = key === 'set-cookie' ? [value] : value;
    return;
  }
  if (key === 'set-cookie') (existing as string[]).push(value);
  else if (key === 'cookie') headers[key] = `${existing as string}; ${value}`;
  else if (!FIRST_WINS.has(key)) headers[key] = `${existing as string}, ${value}`;
}

/** The head as text: latin1, one byte per character, so offsets in it are offsets in the bytes. */
function headText(buf: Buffer, from: number, end: number): string {
  for (let i = from; i < end; i++) {
    const c = buf[i]!;
    if (CONTROL[c] === 0) continue;
    if (c === CR && i + 1 < end && buf[i + 1] === LF) i++;
    else throw new WireError('malformed', 'a control character or bare CR in the head');
  }
  return buf.toString('latin1', from, end);
}

function isToken(text: string, start: number, end: number): boolean {
  if (start === end) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** text[start, end) without the spaces and tabs around it; sliced once. */
function trimmed(text: string, start: number, end: number): string {
  let a = start;
  let b = end;
  while (a < b && isBlank(text.charCodeAt(a))) a++;
  while (b > a && isBlank(text.charCodeAt(b - 1))) b--;
  return text.slice(a, b);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Whether a comma-separated list (Connection) names the token, in any case. */
export function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  // The usual case: one value.
  if (list.indexOf(',') < 0) return list.trim().toLowerCase() === token;
  for (const part of list.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

export function parseRequestHead(buf: Buffer, from: number, end: number): RequestHead {
  const text = buf.toString('latin1', from, end);
  // Nearly every head is well-formed, and one native match proves it; any other is parsed check by check.
  if (!REQUEST_HEAD.test(text)) return parseRequestHeadChecked(buf, from, end);
  // method SP request-target SP "HTTP/1." [01] CRLF: the version is the 8 characters before the CRLF.
  const lineEnd = text.indexOf('\r');
  const sp = text.indexOf(' ');
  const versionMinor = text.charCodeAt(lineEnd - 1) === DIGIT_ONE ? 1 : 0;
  const f = parseFields(text, lineEnd + 2, true, true);
  return requestHead(text.slice(0, sp), text.slice(sp + 1, lineEnd - 9), versionMinor, f);
}

/** parseRequestHead with each check made in turn rather than proven by REQUEST_HEAD: its error says what is wrong. */
export function parseRequestHeadChecked(buf: Buffer, from: number, end: number): RequestHead {
  const text = headText(buf, from, end);
  const lineEnd = text.indexOf('\r\n');
  const sp1 = text.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || sp2 > lineEnd) throw new WireError('malformed', 'a malformed request line');
  const method = text.slice(0, sp1);
  const url = text.slice(sp1 + 1, sp2);
  const version = REQUEST_VERSION.exec(text.slice(sp2 + 1, lineEnd));
  if (!IS_TOKEN.test(method)) throw new WireError('malformed', `invalid method ${JSON.stringify(method)}`);
  if (url === '' || url.includes(' ')) throw new WireError('malformed', 'a malformed request-target');
  if (!version) throw new WireError('malformed', 'an HTTP version other than 1.0 or 1.1');
  return requestHead(method, url, version[1] === '1' ? 1 : 0, parseFields(text, lineEnd + 2, true, false));
}

function requestHead(method: string, url: string, versionMinor: 0 | 1, f: Fields): RequestHead {
  // RFC 9112 §3.2: a 400 for more than one Host line, even with one value. Otherwise one hop could route by the
  // first and the next by the last.
  if (f.hostCount > 1) throw new WireError('malformed', 'Host given more than once');
  const connection = f.connection;
  return {
    method,
    url,
    versionMinor,
    rawHeaders: f.raw,
    headers: f.headers,
    framing: requestFraming(f),
    keepAlive: versionMinor === 1 ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive'),
    upgrade: f.headers.upgrade !== undefined && hasToken(connection, 'upgrade'),
    expectContinue: versionMinor === 1 && f.headers.expect?.toLowerCase() === '100-continue',
  };
}

/** RFC 9112 §6.3 for requests, refusing every shape where two parsers could find different ends. */
function requestFraming(f: Fields): Framing {
  if (f.transferEncoding !== undefined) {
    if (f.contentLengthCount > 0) throw new WireError('malformed', 'Content-Length with Transfer-Encoding');
    if (!endsInChunked(f.transferEncoding)) {
      throw new WireError('malformed', 'Transfer-Encoding does not end in chunked');
    }
    return CHUNKED;
  }
  if (f.contentLengthCount === 0) return NO_BODY;
  if (f.contentLengthCount > 1) throw new WireError('malformed', 'Content-Length given more than once');
  const length = contentLength(f.contentLength!);
  return length === 0 ? NO_BODY : { kind: 'length', length };
}

/** Whether a Transfer-Encoding list ends in chunked (the body is then chunked-framed). */
export function endsInChunked(te: string): boolean {
  const comma = te.lastIndexOf(',');
  return (
    te
      .slice(comma + 1)
      .trim()
      .toLowerCase() === 'chunked'
  );
}

/** A Content-Length value: digits only, within a safe integer. */
export function contentLength(value: string): number {
  if (!DIGITS.test(value)) throw new WireError('malformed', `invalid Content-Length ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new WireError('malformed', 'Content-Length too large');
  return n;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

export function parseResponseHead(buf: Buffer, from: number, end: number, requestMethod: string): ResponseHead {
  const text = buf.toString('latin1', from, end);
  if (!RESPONSE_HEAD.test(text)) return parseResponseHeadChecked(buf, from, end, requestMethod);
  // "HTTP/1." [01] SP 3DIGIT, then SP reason-phrase when the line is longer.
  const lineEnd = text.indexOf('\r');
  const versionMinor = text.charCodeAt(7) === DIGIT_ONE ? 1 : 0;
  const statusCode = digit(text, 9) * 100 + digit(text, 10) * 10 + digit(text, 11);
  const statusMessage = lineEnd > 12 ? text.slice(13, lineEnd) : '';
  const f = parseFields(text, lineEnd + 2, false, true);
  return responseHead(versionMinor, statusCode, statusMessage, f, requestMethod);
}

function digit(text: string, at: number): number {
  return text.charCodeAt(at) - DIGIT_ZERO;
}

/** parseResponseHead with each check made in turn rather than proven by RESPONSE_HEAD: its error says what is wrong. */
export function parseResponseHeadChecked(buf: Buffer, from: number, end: number, requestMethod: string): ResponseHead {
  const text = headText(buf, from, end);
  const lineEnd = text.indexOf('\r\n');
  const status = STATUS_LINE.exec(text.slice(0, lineEnd));
  if (!status) throw new WireError('malformed', 'a malformed status line');
  const f = parseFields(text, lineEnd + 2, false, false);
  return responseHead(status[1] === '1' ? 1 : 0, Number(status[2]), status[3] ?? '', f, requestMethod);
}

function responseHead(
  versionMinor: 0 | 1,
  statusCode: number,
  statusMessage: string,
  f: Fields,
  requestMethod: string,
): ResponseHead {
  const framing = responseFraming(f, statusCode, requestMethod);
  return {
    statusCode,
    statusMessage,
    versionMinor,
    rawHeaders: f.raw,
    keepAliveHint: f.keepAlive,
    framing,
    keepAlive:
      framing.kind !== 'close' &&
      (versionMinor === 1 ? !hasToken(f.connection, 'close') : hasToken(f.connection, 'keep-alive')),
  };
}

/** RFC 9112 §6.3 for responses. */
function responseFraming(f: Fields, status: number, requestMethod: string): Framing {
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) return NO_BODY;
  if (f.transferEncoding !== undefined) {
    if (f.contentLengthCount > 0) throw new WireError('malformed', 'Content-Length with Transfer-Encoding');
    return endsInChunked(f.transferEncoding) ? CHUNKED : UNTIL_CLOSE;
  }
  if (f.contentLengthCount === 0) return UNTIL_CLOSE;
  // Repeated with one value is allowed for responses (RFC 9110 §8.6); different values are not.
  const values = f.contentLengthCount > 1 ? allValues(f.raw, 'content-length') : [f.contentLength!];
  const length = contentLength(values[0]!);
  if (values.some((v) => v !== values[0])) throw new WireError('malformed', 'conflicting Content-Length values');
  return length === 0 ? NO_BODY : { kind: 'length', length };
}

function allValues(raw: readonly string[], key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (isName(raw[i]!, key)) out.push(raw[i + 1]!);
  return out;
}

/** The first value of header `key` (lower-case) in raw headers, without making the headers object. */
export function firstRawValue(raw: readonly string[], key: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if (isName(raw[i]!, key)) return raw[i + 1];
  return undefined;
}

/** A name as sent is `key` (lower-case) in any case; names of another length are not lower-cased. */
function isName(name: string, key: string): boolean {
  return name.length === key.length && (name === key || name.toLowerCase() === key);
}

/** Checks the field lines of a trailer section as a head's are (each a well-formed field line). */
export function checkFieldLines(text: string): void {
  parseFields(text, 0, false, false);
}
