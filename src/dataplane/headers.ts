// Header handling shared by the request and response paths.
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import { HEADER_LINES, type HeaderLines } from './http1/client.js';
import { ProvenFields } from './http1/server-response.js';
import { serializeHeaders } from './http1/head-writer.js';
import type { HeaderMutation } from '../proxy-config/types.js';

/** RFC 9110 §7.6.1 connection-specific headers, plus the proxy ones a proxy must not forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** A copy of `headers` without hop-by-hop headers, including any the Connection header names. */
export function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const extra = connectionOptions(headers.connection);
  const out: OutgoingHttpHeaders = {};
  // Parsed headers are an own-property bag with no prototype chain to walk.
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The same for a flat list of names and values as they came off the wire (names in any case), written as the field
 * lines to pass on: each as it came, in its order, without a repeated Content-Length (the parser let only identical
 * repeats through; one is enough, and some clients refuse two), and `replaced` (lower-case) last with the caller's
 * `value` instead of any the list had. Only names of a length worth checking are lower-cased, unless the Connection
 * header names others. No line is checked: they are a parsed head's, which the parse proved clean, and the caller's
 * value must be clean too.
 */
export function rawWithoutHopByHop(raw: readonly string[], replaced: string, value: string): ProvenFields {
  let named: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      named = named === undefined ? raw[i + 1]! : `${named}, ${raw[i + 1]!}`;
    }
  }
  const extra = connectionOptions(named);
  let lines = '';
  let length = false;
  let date = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const n = name.length;
    if (extra !== undefined || HOP_BY_HOP_LENGTHS.has(n) || n === 14 || n === 4 || n === replaced.length) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || extra?.has(lower) || lower === replaced) continue;
      if (lower === 'content-length') {
        if (length) continue;
        length = true;
      } else if (lower === 'date') date = true;
    }
    lines += `${name}: ${raw[i + 1]!}\r\n`;
  }
  return new ProvenFields(`${lines}${replaced}: ${value}\r\n`, date, length);
}

const HOP_BY_HOP_LENGTHS: ReadonlySet<number> = new Set([...HOP_BY_HOP].map((name) => name.length));

/**
 * The header names a Connection header lists, beyond the hop-by-hop ones every message drops anyway. The usual
 * values (keep-alive, close, upgrade) name none: no set is made for them.
 */
function connectionOptions(named: string | undefined): ReadonlySet<string> | undefined {
  if (named === undefined) return undefined;
  const lower = named.toLowerCase();
  if (lower.indexOf(',') < 0) {
    const name = lower.trim();
    return name === '' || name === 'close' || HOP_BY_HOP.has(name) ? undefined : new Set([name]);
  }
  const names = lower.split(',');
  let extra: Set<string> | undefined;
  for (const n of names) {
    const name = n.trim();
    if (name === '' || name === 'close' || HOP_BY_HOP.has(name)) continue;
    (extra ??= new Set()).add(name);
  }
  return extra;
}

/** Envoy's order: removals first, then set (replace) and add (append). Names are lower-case. */
export function applyHeaderMutation(headers: OutgoingHttpHeaders, m: HeaderMutation | undefined): void {
  if (!m) return;
  for (const name of m.remove) delete headers[name.toLowerCase()];
  for (const [name, value] of m.set) headers[name.toLowerCase()] = value;
  for (const [rawName, value] of m.add) {
    const name = rawName.toLowerCase();
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) headers[name] = [...existing, value];
    else headers[name] = [String(existing), value];
  }
}

/** The proxy sets a handful; `lines()` keeps one bit each in a 31-bit mask. */
const MAX_SET = 31;

/**
 * A request's headers on their way upstream: the client's own, as parsed, without hop-by-hop headers, and the few
 * the proxy sets (host, x-request-id, x-forwarded-*), each where the client had it or else after the client's.
 * Written as lines straight from the parsed headers, whose values the parse proved clean, with no copy. A header
 * mutation, a host rewrite or a mirror asks for `object()`: the headers are then that object, written with a check
 * per value as any other.
 */
export class ForwardedHeaders implements HeaderLines {
  readonly [HEADER_LINES] = true as const;
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private built: OutgoingHttpHeaders | undefined;
  /** The names the client's Connection header lists, dropped with the hop-by-hop ones. */
  private readonly named: ReadonlySet<string> | undefined;

  constructor(private readonly source: IncomingHttpHeaders) {
    this.named = connectionOptions(source.connection);
  }

  /**
   * Sets a header the proxy makes. Its value must be clean: made by the proxy, or taken from the parsed request
   * (values from configuration go through `object()`, where every value is checked).
   */
  set(name: string, value: string): void {
    if (this.built) {
      this.built[name] = value;
      return;
    }
    const i = this.names.indexOf(name);
    if (i >= 0) this.values[i] = value;
    else if (this.names.length < MAX_SET) {
      this.names.push(name);
      this.values.push(value);
    } else this.object()[name] = value;
  }

  get(name: string): OutgoingHttpHeader | undefined {
    if (this.built) return this.built[name];
    const i = this.names.indexOf(name);
    if (i >= 0) return this.values[i];
    return HOP_BY_HOP.has(name) || this.named?.has(name) ? undefined : this.source[name];
  }

  /** The headers as an object to change; from now on they are this object. */
  object(): OutgoingHttpHeaders {
    if (this.built) return this.built;
    const built = withoutHopByHop(this.source);
    for (let i = 0; i < this.names.length; i++) built[this.names[i]!] = this.values[i]!;
    this.built = built;
    return built;
  }

  lines(): string {
    if (this.built) return serializeHeaders(this.built);
    const source = this.source;
    const names = this.names;
    const extra = this.named;
    let out = '';
    // Which of the proxy's headers went out in the client's place for them (a bit each: there are a handful).
    let placed = 0;
    for (const name in source) {
      if (HOP_BY_HOP.has(name) || extra?.has(name)) continue;
      const i = names.indexOf(name);
      if (i >= 0) {
        out += `${name}: ${this.values[i]!}\r\n`;
        placed |= 1 << i;
        continue;
      }
      const value = source[name];
      if (value === undefined) continue;
      if (typeof value === 'string') out += `${name}: ${value}\r\n`;
      else for (const v of value) out += `${name}: ${v}\r\n`;
    }
    for (let i = 0; i < names.length; i++) if ((placed & (1 << i)) === 0) out += `${names[i]!}: ${this.values[i]!}\r\n`;
    return out;
  }
}
