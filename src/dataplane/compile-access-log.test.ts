// The access-log part of a pushed config: a format the controller sent is compiled once with the config; one the
// proxy cannot write refuses the whole config (a NACK), so the config in force stays.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECORD } from '../observability/testing/fixtures.js';
import type { ProxyConfig } from '../proxy-config/types.js';
import { compileConfig } from './compile-config.js';
import { ConfigError } from './errors.js';
import { sidecarConfig } from './testing/fixtures.js';

const withFormat = (encoding: 'JSON' | 'TEXT', format: unknown): ProxyConfig => {
  const base = sidecarConfig({ encoding });
  return { ...base, accessLog: { ...base.accessLog, format: format as string } };
};

describe('compileConfig: accessLog.format', () => {
  it('compiles the format once, for the encoding', () => {
    const text = compileConfig(withFormat('TEXT', '%RESPONSE_CODE% %REQ(X-TENANT)%\n')).accessLog.line;
    assert.equal(text?.(RECORD, { request: ['X-Tenant', 'blue'], response: undefined }), '301 blue');
    const json = compileConfig(withFormat('JSON', '{"code": "%RESPONSE_CODE%"}')).accessLog.line;
    assert.equal(json?.(RECORD, { request: undefined, response: undefined }), '{"code":301}');
    assert.equal(compileConfig(sidecarConfig()).accessLog.line, undefined);
  });

  it('a format it cannot write, or that is not a string, refuses the config and names the field', () => {
    for (const [encoding, format] of [
      ['TEXT', '%NOPE%'],
      ['JSON', '%RESPONSE_CODE%'],
      ['TEXT', 42],
    ] as const) {
      assert.throws(
        () => compileConfig(withFormat(encoding, format)),
        (err: unknown) => err instanceof ConfigError && /accessLog\.format/.test(err.message),
        `${encoding} ${String(format)}`,
      );
    }
  });
});
