// The head patterns against the parse that checks each rule in turn: for every head, well-formed or not, the parse
// that trusts a pattern's match (parseRequestHead, parseResponseHead) and the checked one return the same head or
// refuse it with the same error. Heads are built from a fixed seed: well-formed ones with varied names, case, OWS,
// empty values, obs-text and repeated fields, and each of them mutated into the shapes a parser must refuse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../test/helpers/seeded-random.js';
import { REQUEST_HEAD, RESPONSE_HEAD } from './head-grammar.js';
import {
  parseRequestHead,
  parseRequestHeadChecked,
  parseResponseHead,
  parseResponseHeadChecked,
  WireError,
} from './wire.js';

const SEED = 20261202;
const HEADS = 400;

type Draw = ReturnType<typeof draws>;

function draws(seed: number) {
  const rnd = seededRandom(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  return { int, pick: <T>(list: readonly T[]): T => list[int(list.length)]!, chance: (p: number) => rnd() < p };
}

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'HEAD',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'CONNECT',
  'M-SEARCH',
  "X!#$%&'*+-.^_`|~9",
];
const TARGETS = ['/', '/a/b?c=d&e', 'http://a.test:8080/x', 'a.test:443', '*', '/caf\xe9', '/a\tb', '/%20"<>{}|'];
const NAMES = [
  'Host',
  'host',
  'HOST',
  'User-Agent',
  'Accept',
  'accept-encoding',
  'X-Request-Id',
  'x-b3-traceid',
  'Cookie',
  'cookie',
  'Set-Cookie',
  'Via',
  'Date',
  'Location',
  'a',
  "!#$%&'*+-.^_`|~09AZaz",
  'X_Underscore',
  'Upgrade',
  'Expect',
  'Keep-Alive',
  'keep-ALIVE',
];
/** Framing and connection fields, with values both usable and refused. */
const FRAMING: readonly (readonly [string, readonly string[]])[] = [
  ['Content-Length', ['0', '5', '007', '12345678901', ' 42\t', '+3', '3, 3', '', '0x10', '99999999999999999999']],
  ['content-length', ['3']],
  ['Transfer-Encoding', ['chunked', 'gzip, Chunked', 'chunked, identity', 'identity', ' chunked ']],
  ['Connection', ['close', 'keep-alive', 'Keep-Alive, Upgrade', 'upgrade', 'TE, close', '']],
  ['Upgrade', ['websocket']],
  ['Expect', ['100-continue', '100-Continue', 'nothing']],
  ['Keep-Alive', ['timeout=5', 'timeout=5, max=100']],
];
const STATUSES = ['200', '204', '304', '101', '100', '301', '404', '500', '099', '000', '999'];
const REASONS = ['OK', 'Not Found', '', ' ', 'caf\xe9', 'a\tb', 'spaced  out ', 'x:y'];

/** A field value: visible ASCII, SP, HTAB, colons and obs-text, sometimes with OWS around it, sometimes empty. */
function value(d: Draw): string {
  let v = '';
  for (let n = d.int(24); n > 0; n--) {
    const kind = d.int(10);
    v += String.fromCharCode(kind < 6 ? 0x21 + d.int(94) : kind < 7 ? 0x80 + d.int(128) : d.pick([32, 9, 58]));
  }
  const ows = ['', '', ' ', '\t', '  ', ' \t'];
  return d.pick(ows) + v + d.pick(ows);
}

function fieldLines(d: Draw): string[] {
  const lines: string[] = [];
  for (let n = d.int(9); n > 0; n--) {
    if (d.chance(0.25)) {
      const [name, values] = d.pick(FRAMING);
      lines.push(`${name}:${d.pick(['', ' '])}${d.pick(values)}`);
    } else lines.push(`${d.pick(NAMES)}:${value(d)}`);
    // A repeated field, as sent again further down.
    if (d.chance(0.15)) lines.push(lines[d.int(lines.length)]!);
  }
  return lines;
}

const head = (startLine: string, lines: readonly string[]): string =>
  `${startLine}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;

function requestHead(d: Draw): string {
  const version = d.chance(0.8) ? 'HTTP/1.1' : 'HTTP/1.0';
  return head(`${d.pick(METHODS)} ${d.pick(TARGETS)} ${version}`, fieldLines(d));
}

function responseHead(d: Draw): string {
  const reason = d.chance(0.2) ? '' : ` ${d.pick(REASONS)}`;
  return head(`HTTP/1.${d.int(2)} ${d.pick(STATUSES)}${reason}`, fieldLines(d));
}

const CONTROLS = [...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)), '\x7f'];
/** Bytes a name may not hold: delimiters, SP, HTAB, DEL and obs-text. */
const NOT_TCHAR = [...'"(),/;<=>?@[\\]{} \t\x7f\x80\xff'];

/** Where a field line of the head starts, at random; -1 when it has none. */
function someFieldLine(text: string, d: Draw): number {
  const starts: number[] = [];
  const end = text.length - 2;
  for (let at = text.indexOf('\r\n') + 2; at < end; at = text.indexOf('\r\n', at) + 2) starts.push(at);
  return starts.length === 0 ? -1 : d.pick(starts);
}

const insert = (text: string, at: number, s: string): string => text.slice(0, at) + s + text.slice(at);

/** One mutation of a head, of each kind the codec must refuse (or, for some, still parse). */
const MUTATIONS: readonly ((text: string, d: Draw) => string)[] = [
  // A control character (NUL, bare CR, bare LF, DEL, ...) anywhere.
  (t, d) => insert(t, d.int(t.length), d.pick(CONTROLS)),
  // A space or tab before a colon.
  (t, d) => {
    const line = someFieldLine(t, d);
    return line < 0 ? t : insert(t, t.indexOf(':', line), d.pick([' ', '\t']));
  },
  // obs-fold: a line that starts with SP or HTAB, or a value continued on one.
  (t, d) => {
    const line = someFieldLine(t, d);
    if (line < 0) return insert(t, t.length - 2, ' folded\r\n');
    return d.chance(0.5) ? insert(t, line, d.pick([' ', '\t'])) : insert(t, t.indexOf('\r\n', line), '\r\n\tmore');
  },
  // An empty name, or a line without a colon.
  (t, d) => insert(t, t.length - 2, d.pick([': v\r\n', ':\r\n', 'NoColon\r\n', 'No Colon here\r\n'])),
  // A name with a byte that is not tchar.
  (t, d) => {
    const line = someFieldLine(t, d);
    const at = line < 0 ? -1 : line + d.int(t.indexOf(':', line) - line + 1);
    return at < 0 ? insert(t, t.length - 2, `A${d.pick(NOT_TCHAR)}B: 1\r\n`) : insert(t, at, d.pick(NOT_TCHAR));
  },
  // The start line changed: version, separators, method and status code.
  (t, d) => {
    const line = t.slice(0, t.indexOf('\r\n'));
    const changed = t.startsWith('HTTP/')
      ? d.pick([
          line.replace(/ \d{3}/, ' 20'),
          line.replace(/ \d{3}/, ' 2000'),
          line.replace(/ (\d{3})/, '  $1'),
          line.replace(/ (\d{3}) ?/, ' $1'),
          line.replace(/ (\d{3})/, ' $1\t'),
          line.replace('HTTP/1.', 'HTTP/2.'),
          line.replace('HTTP/1.', 'http/1.'),
          line.replace(/ (\d)/, ' 2O'),
          line.replace(/ \d{3}/, ' -20'),
          `ICY${line.slice(8)}`,
          ` ${line}`,
        ])
      : d.pick([
          line.replace(/HTTP\/1\.\d$/, d.pick(['HTTP/1.2', 'HTTP/2.0', 'HTTP/1', 'http/1.1', 'HTTP/1.10', 'HTTP/0.9'])),
          `${line} `,
          ` ${line}`,
          line.replace(' ', '  '),
          line.replace(' ', '\t'),
          line.replace(/ [^ ]+ /, ' '),
          line.replace(/ [^ ]+ /, '  '),
          line.replace(/^[^ ]+/, d.pick(['G(T', 'GE T', '', 'G\x80T', 'G:T'])),
          line.replace(/ ([^ ]+) /, ' $1 x '),
        ]);
    return changed + t.slice(line.length);
  },
  // Framing fields that disagree: CL with TE, CL twice (same or different), a CL that is not digits.
  (t, d) =>
    insert(
      t,
      t.length - 2,
      d.pick([
        'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n',
        'Transfer-Encoding: chunked\r\ncontent-length: 0\r\n',
        'Content-Length: 3\r\nContent-Length: 3\r\n',
        'Content-Length: 3\r\nCONTENT-LENGTH: 4\r\n',
        'Content-Length: 3 3\r\n',
        'Content-Length: -1\r\n',
        'Content-Length: 1.0\r\n',
        'Transfer-Encoding: chunked, gzip\r\n',
      ]),
    ),
  // An empty line before the head's end, so the head runs on past it.
  (t, d) => {
    const line = someFieldLine(t, d);
    return insert(t, line < 0 ? t.length - 2 : line, '\r\n');
  },
  // Any byte replaced by any byte, or one deleted or doubled.
  (t, d) => {
    const at = d.int(t.length);
    const kind = d.int(3);
    const replacement = kind === 0 ? String.fromCharCode(d.int(256)) : kind === 1 ? '' : t[at]!.repeat(2);
    return t.slice(0, at) + replacement + t.slice(at + 1);
  },
];

/** What a parse made of a head: the head, or its error's kind and message. */
function outcome(parse: () => object): unknown {
  try {
    const parsed = parse();
    // The headers object's keys in order too, as a forwarded request iterates them.
    return { parsed, keys: 'headers' in parsed ? Object.keys(parsed.headers as object) : [] };
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    return { kind: err.kind, message: err.message };
  }
}

interface Tally {
  matched: number;
  matchedRefused: number;
  unmatched: number;
}

/** The head inside other bytes, as it lies in a read: the parse must use only [from, end). */
function parsedBothWays(text: string, response: boolean, method: string, tally: Tally): void {
  const buf = Buffer.from(`HTTP/1.1 200 OK\r\n${text}\r\n\r\n\n`, 'latin1');
  const from = 17;
  const end = from + text.length;
  const [fast, checked] = response
    ? [
        outcome(() => parseResponseHead(buf, from, end, method)),
        outcome(() => parseResponseHeadChecked(buf, from, end, method)),
      ]
    : [outcome(() => parseRequestHead(buf, from, end)), outcome(() => parseRequestHeadChecked(buf, from, end))];
  assert.deepEqual(fast, checked, JSON.stringify(text));
  if (!(response ? RESPONSE_HEAD : REQUEST_HEAD).test(text)) tally.unmatched++;
  else if ('message' in (checked as object)) tally.matchedRefused++;
  else tally.matched++;
}

function differential(response: boolean): { wellFormed: Tally; mutated: Tally } {
  const d = draws(SEED + (response ? 1 : 0));
  const wellFormed: Tally = { matched: 0, matchedRefused: 0, unmatched: 0 };
  const mutated: Tally = { matched: 0, matchedRefused: 0, unmatched: 0 };
  for (let i = 0; i < HEADS; i++) {
    const text = response ? responseHead(d) : requestHead(d);
    const method = d.pick(['GET', 'GET', 'HEAD', 'POST']);
    parsedBothWays(text, response, method, wellFormed);
    for (const mutation of MUTATIONS) parsedBothWays(mutation(text, d), response, method, mutated);
  }
  return { wellFormed, mutated };
}

describe('head patterns', () => {
  for (const response of [false, true]) {
    it(`${response ? 'response' : 'request'} heads: the pattern's parse and the checked one agree`, () => {
      const { wellFormed, mutated } = differential(response);
      // Every head built well-formed takes the pattern's path (refused, if at all, only for its framing)...
      assert.equal(wellFormed.unmatched, 0);
      assert.ok(wellFormed.matchedRefused > 0 && wellFormed.matched > HEADS / 2, JSON.stringify(wellFormed));
      // ...and the mutations reach both sides of it: refused by the pattern, and still matched.
      assert.ok(mutated.unmatched > HEADS * 5, JSON.stringify(mutated));
      assert.ok(mutated.matched > 0 && mutated.matchedRefused > HEADS / 5, JSON.stringify(mutated));
    });
  }

  it('are anchored at both ends', () => {
    // Unanchored, a head that fails to match would be tried again from each later offset: quadratic in its size.
    for (const pattern of [REQUEST_HEAD, RESPONSE_HEAD]) {
      assert.ok(pattern.source.startsWith('^') && pattern.source.endsWith('$') && !pattern.multiline, pattern.source);
    }
  });

  it('match or refuse a 60 KiB hostile head, as the checked parse does', () => {
    const size = 60 * 1024;
    const tally: Tally = { matched: 0, matchedRefused: 0, unmatched: 0 };
    const requestLine = 'GET http://a.test/ HTTP/1.1\r\n';
    const shapes = [
      ' '.repeat(size),
      ':'.repeat(size),
      `${requestLine}${'a'.repeat(size)}\r\n\r\n`,
      `${requestLine}${' '.repeat(size)}\r\n\r\n`,
      `${requestLine}${':'.repeat(size)}\r\n\r\n`,
      `${requestLine}${'a:'.repeat(size / 2)}\r\n\r\n`,
      `${requestLine}${'a:\r\n'.repeat(size / 4)}\r\n`,
      `${requestLine}${'a:\r\n'.repeat(size / 4)}a\r\n\r\n`,
      `${requestLine}${'a: b\r\n'.repeat(size / 6)}a : b\r\n\r\n`,
      `${requestLine}X: ${'v'.repeat(size)}\r\r\n\r\n`,
      `${requestLine}X: ${'\t '.repeat(size / 2)}\r\n\r\n`,
      `GET ${'/'.repeat(size)} HTTP/1.1 \r\n\r\n`,
      `GET /${' '.repeat(size)}HTTP/1.1\r\n\r\n`,
      `${'G'.repeat(size)} / HTTP/1.1\r\n\r\n`,
    ];
    for (const text of shapes) parsedBothWays(text, false, 'GET', tally);
    for (const text of [
      `HTTP/1.1 200 ${'a'.repeat(size)}\r\n\r\n`,
      `HTTP/1.1 200 ${' '.repeat(size)}\x00\r\n\r\n`,
      `HTTP/1.1 200 OK\r\n${'Set-Cookie: a=b\r\n'.repeat(size / 17)}\r\n`,
    ]) {
      parsedBothWays(text, true, 'GET', tally);
    }
    assert.ok(tally.matched >= 4 && tally.unmatched >= 10, JSON.stringify(tally));
  });
});
