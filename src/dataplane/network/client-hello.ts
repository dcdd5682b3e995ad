// The first bytes of a connection, read without decrypting anything (Envoy's tls_inspector): is it TLS, and if so
// which server name (SNI) and application protocols (ALPN) does its ClientHello ask for. A ClientHello may span
// several TLS records and several reads; the parser is given everything read so far and says whether it needs
// more.

export type Inspection =
  /** Not enough bytes yet to decide. */
  | { readonly kind: 'incomplete' }
  /** The bytes are not a TLS handshake: plain text (HTTP) or another protocol. */
  | { readonly kind: 'raw' }
  /** A complete ClientHello. */
  | { readonly kind: 'tls'; readonly serverName: string | undefined; readonly alpn: readonly string[] }
  /** A TLS record header followed by something that is not a well-formed ClientHello. */
  | { readonly kind: 'malformed'; readonly reason: string };

/** ClientHellos beyond this are refused: real ones (post-quantum key shares included) stay well below. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

export function inspectClientHello(buf: Buffer): Inspection {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] !== HANDSHAKE) return { kind: 'raw' };
  if (buf.length < 3) return { kind: 'incomplete' };
  // SSL 3.0 to TLS 1.3 all write a record version of 3.x.
  if (buf[1] !== 3) return { kind: 'raw' };

  // Reassemble the handshake message from consecutive handshake records.
  const fragments: Buffer[] = [];
  let have = 0;
  let need: number | undefined;
  let offset = 0;
  for (;;) {
    if (buf.length < offset + RECORD_HEADER) return { kind: 'incomplete' };
    if (buf[offset] !== HANDSHAKE) return { kind: 'malformed', reason: 'handshake interrupted by another record' };
    const length = buf.readUInt16BE(offset + 3);
    if (length === 0 || length > 16_384 + 2048) return { kind: 'malformed', reason: `bad record length ${length}` };
    const end = offset + RECORD_HEADER + length;
    const available = Math.min(end, buf.length);
    fragments.push(buf.subarray(offset + RECORD_HEADER, available));
    have += available - offset - RECORD_HEADER;
    if (need === undefined && have >= 4) {
      const head = Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO)
        return { kind: 'malformed', reason: `handshake type ${head[0]} is not ClientHello` };
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO_BYTES) return { kind: 'malformed', reason: `ClientHello of ${need} bytes` };
    }
    if (need !== undefined && have >= need) break;
    if (available < end) return { kind: 'incomplete' };
    offset = end;
  }
  return parseClientHello(Buffer.concat(fragments).subarray(4, need));
}

function parseClientHello(body: Buffer): Inspection {
  const r = new Reader(body);
  // legacy_version, random
  if (!r.skip(2 + 32)) return bad('truncated version/random');
  const sessionId = r.u8();
  if (sessionId === undefined || !r.skip(sessionId)) return bad('truncated session id');
  const suites = r.u16();
  if (suites === undefined || !r.skip(suites)) return bad('truncated cipher suites');
  const compression = r.u8();
  if (compression === undefined || !r.skip(compression)) return bad('truncated compression methods');
  // A ClientHello without extensions is legal (and has no SNI).
  if (r.remaining === 0) return { kind: 'tls', serverName: undefined, alpn: [] };
  const extLength = r.u16();
  if (extLength === undefined || extLength > r.remaining) return bad('truncated extensions');
  let serverName: string | undefined;
  let alpn: string[] = [];
  const exts = new Reader(r.take(extLength)!);
  while (exts.remaining > 0) {
    const type = exts.u16();
    const len = exts.u16();
    const data = len === undefined ? undefined : exts.take(len);
    if (type === undefined || data === undefined) return bad('truncated extension');
    if (type === EXT_SERVER_NAME) {
      const sni = readServerName(data);
      if (sni === null) return bad('malformed server_name extension');
      serverName = sni;
    } else if (type === EXT_ALPN) {
      const protocols = readAlpn(data);
      if (protocols === null) return bad('malformed ALPN extension');
      alpn = protocols;
    }
  }
  return { kind: 'tls', serverName, alpn };
}

/** RFC 6066: a list of (type, name); the host_name entry (type 0) is the one that counts. */
function readServerName(data: Buffer): string | undefined | null {
  const r = new Reader(data);
  const listLength = r.u16();
  if (listLength === undefined || listLength > r.remaining) return null;
  while (r.remaining > 0) {
    const type = r.u8();
    const len = r.u16();
    const name = len === undefined ? undefined : r.take(len);
    if (type === undefined || name === undefined) return null;
    if (type === 0) {
      const text = name.toString('latin1');
      // Host names are ASCII letters, digits, hyphens and dots; anything else is not a name we route on.
      if (!/^[A-Za-z0-9.-]{1,253}$/.test(text)) return null;
      return text.toLowerCase().replace(/\.$/, '');
    }
  }
  return undefined;
}

function readAlpn(data: Buffer): string[] | null {
  const r = new Reader(data);
  const listLength = r.u16();
  if (listLength === undefined || listLength > r.remaining) return null;
  const out: string[] = [];
  while (r.remaining > 0) {
    const len = r.u8();
    const p = len === undefined ? undefined : r.take(len);
    if (p === undefined) return null;
    out.push(p.toString('latin1'));
  }
  return out;
}

function bad(reason: string): Inspection {
  return { kind: 'malformed', reason };
}

/** Bounds-checked big-endian reads: undefined instead of a throw when the data runs out. */
class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number | undefined {
    if (this.remaining < 1) return undefined;
    return this.buf[this.pos++];
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  skip(n: number): boolean {
    if (this.remaining < n) return false;
    this.pos += n;
    return true;
  }

  take(n: number): Buffer | undefined {
    if (this.remaining < n) return undefined;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
