// Writing a message head: header lines (each checked, so that no name or value can end its line early: response
// splitting), the reason phrase, and the Date header.
import { type OutgoingHttpHeaders, STATUS_CODES } from 'node:http';
import { WireError } from './wire.js';

// A name or value that would end a header line early (response splitting), or that holds a character no byte
// stands for: heads are written as latin1, where U+010A would go out as LF.
const BREAKS_LINE = /[\r\n\0\u0100-\uffff]/;
const NOT_ASCII = /[\u0080-\uffff]/;

/** Whether the text (or byte string) has anything beyond ASCII: nearly every value has not. */
export function hasNonAscii(text: string): boolean {
  return NOT_ASCII.test(text);
}

/**
 * Text from the config as a head carries it: its UTF-8 bytes, one character per byte (heads are written, and
 * read, as latin1). A request's own values are bytes already; a VirtualService's "café" becomes the four bytes
 * Envoy would send, and matches the same bytes in a request. ASCII comes back as it is.
 */
export function utf8Bytes(text: string): string {
  return NOT_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/**
 * The other way, for showing people what a client sent: bytes (one character each) read as the UTF-8 text they
 * almost always are; a byte that is not UTF-8 becomes U+FFFD. ASCII comes back as it is.
 */
export function utf8Text(bytes: string): string {
  return NOT_ASCII.test(bytes) ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes;
}

/** "name: value\r\n" per header, one line per element of an array value. */
export function serializeHeaders(headers: OutgoingHttpHeaders): string {
  let out = '';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (BREAKS_LINE.test(name)) throw new WireError('malformed', `invalid header name ${JSON.stringify(name)}`);
    if (Array.isArray(value)) {
      for (const v of value) out += headerLine(name, v);
    } else out += headerLine(name, typeof value === 'string' ? value : String(value));
  }
  return out;
}

/** The same for a flat list of names and values, alternating (as node:http's writeHead takes it). */
export function serializeHeaderList(list: readonly string[]): string {
  let out = '';
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!;
    if (BREAKS_LINE.test(name)) throw new WireError('malformed', `invalid header name ${JSON.stringify(name)}`);
    out += headerLine(name, list[i + 1]!);
  }
  return out;
}

function headerLine(name: string, value: string): string {
  if (BREAKS_LINE.test(value)) {
    const what = /[\r\n\0]/.test(value) ? 'a line break or NUL' : 'a character above U+00FF (not encoded as bytes)';
    throw new WireError('malformed', `invalid value for header ${name}: ${what}`);
  }
  return `${name}: ${value}\r\n`;
}

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

let dateSecond = -1;
let dateText = '';

/** The current IMF-fixdate for a `date` header, recomputed at most once a second. */
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
