import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCESS_LOG_FIELDS, formatAccessLog, formatStartTime, type AccessLogRecord } from './access-log.js';
import { formatResponseFlags, type ResponseFlag } from './response-flags.js';
import { RECORD } from './testing/fixtures.js';

const record = RECORD;

describe('access log', () => {
  it('renders JSON in Istio key order, numbers as numbers and unset values as "-"', () => {
    const line = formatAccessLog(record, 'JSON');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), [...ACCESS_LOG_FIELDS]);
    assert.equal(ACCESS_LOG_FIELDS[0], 'start_time');
    assert.equal(ACCESS_LOG_FIELDS[1], 'route_name');
    assert.equal(parsed.response_code, 301);
    assert.equal(parsed.duration, 12);
    assert.equal(parsed.upstream_service_time, '11');
    assert.equal(parsed.x_forwarded_for, '-');
    assert.equal(parsed.requested_server_name, '-');
    assert.ok(!line.includes('\n'));
  });

  it('renders TEXT as Istio default format', () => {
    assert.equal(
      formatAccessLog(record, 'TEXT'),
      '[2024-05-06T07:08:09.010Z] "GET / HTTP/1.1" 301 - via_upstream - "-" 0 239 12 11 "-" "curl/8.5.0" "abc" ' +
        '"aliyun.com" "106.11.249.99:80" PassthroughCluster 127.0.0.2:40000 127.0.0.2:15001 127.0.0.2:50000 - allow_any',
    );
  });

  it('orders response flags as Envoy does, whatever order they were raised in', () => {
    assert.equal(formatResponseFlags(new Set<ResponseFlag>()), '-');
    assert.equal(formatResponseFlags(new Set<ResponseFlag>(['URX', 'UF'])), 'UF,URX');
    assert.equal(formatResponseFlags(new Set<ResponseFlag>(['NC', 'DI'])), 'DI,NC');
  });
});

describe('empty values', () => {
  it('an unnamed route (empty route name) renders as unset in both encodings', () => {
    const unnamed: AccessLogRecord = { ...record, route_name: '' };
    assert.equal((JSON.parse(formatAccessLog(unnamed, 'JSON')) as { route_name: string }).route_name, '-');
    assert.match(formatAccessLog(unnamed, 'TEXT'), / -$/);
  });
});

function stringifiedWithUnset(r: AccessLogRecord): string {
  const expected: Record<string, string | number> = {};
  for (const key of ACCESS_LOG_FIELDS) {
    const v = r[key];
    expected[key] = v === undefined || v === '' ? '-' : v;
  }
  return JSON.stringify(expected);
}

describe('JSON escaping', () => {
  it('is exactly what JSON.stringify makes of a record with nothing to escape', () => {
    assert.equal(formatAccessLog(record, 'JSON'), stringifiedWithUnset(record));
  });

  it('escapes each kind of character JSON.stringify escapes, alone in a value', () => {
    for (const c of ['"', '\\', '\u0000', '\u001f', '\t', '\ud800', '\udfff', '\ud83d\ude00']) {
      const r: AccessLogRecord = { ...record, path: `/a${c}b` };
      assert.equal(formatAccessLog(r, 'JSON'), stringifiedWithUnset(r), JSON.stringify(c));
    }
  });

  it('is exactly what JSON.stringify makes of the record, for values that need escaping', () => {
    const awkward: AccessLogRecord = {
      ...record,
      path: '/a"b\\c?d=\u0001\n',
      user_agent: 'ünïcødé \u2028 \ud83d\ude00 lone \ud800',
      x_forwarded_for: '',
    };
    const expected: Record<string, string | number> = {};
    for (const key of ACCESS_LOG_FIELDS) {
      const v = awkward[key];
      expected[key] = v === undefined || v === '' ? '-' : v;
    }
    assert.equal(formatAccessLog(awkward, 'JSON'), JSON.stringify(expected));
  });
});

describe('lines in sequence', () => {
  it('each is what JSON.stringify makes of its own record, whether a field repeats the line before or not', () => {
    const values = ['/same', '/same', '/q"uote', '/q"uote', '', '/same', '/n\nl', '/same'];
    const clusters = ['outbound|80||a.test', 'outbound|80||a.test', 'outbound|80||b"x', undefined, 'outbound|80||b"x'];
    for (let i = 0; i < 40; i++) {
      const r: AccessLogRecord = {
        ...record,
        path: values[i % values.length],
        upstream_cluster: clusters[(i * 3) % clusters.length],
        // The same text in a different string: compared by value, not by identity.
        authority: `${'a.test'}${i % 2 === 0 ? '' : ':80'}`.slice(0, 6),
        user_agent: i % 4 === 0 ? 'tab\there' : 'curl/8',
      };
      assert.equal(formatAccessLog(r, 'JSON'), stringifiedWithUnset(r), `line ${i}`);
    }
  });
});

describe('start time', () => {
  it('is Date#toISOString, within a second, across seconds and at the edges of the four-digit years', () => {
    const base = Date.UTC(2026, 11, 1, 19, 44, 35);
    const instants = [
      base,
      base + 1,
      base + 9,
      base + 10,
      base + 99,
      base + 100,
      base + 999,
      base + 1000,
      base + 1007,
      base + 86_400_000 + 42,
      base,
      0,
      999,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10_000, 0, 1),
      -1,
      base + 0.5,
    ];
    for (const ms of instants) assert.equal(formatStartTime(ms), new Date(ms).toISOString(), String(ms));
  });
});
