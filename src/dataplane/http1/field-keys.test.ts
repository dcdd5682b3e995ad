import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMON_FIELDS, fieldKey } from './field-keys.js';

describe('fieldKey', () => {
  it('is the name lower-cased, for common names in any spelling and for any other name', () => {
    const names = [
      'Host',
      'host',
      'HOST',
      'hOST',
      'Content-Length',
      'content-length',
      'CONTENT-LENGTH',
      'Content-length',
      'X-Forwarded-For',
      'x-forwarded-for',
      'TE',
      'te',
      'Te',
      'Traceparent',
      'WWW-Authenticate',
      'X-Custom_Name',
      "!#$%&'*+-.^_`|~",
      'a',
      'Hosts',
      'Hos',
    ];
    for (const name of names) assert.equal(fieldKey(name), name.toLowerCase(), name);
  });
  it('has only lower-case keys, each found in every spelling', () => {
    for (const key of COMMON_FIELDS) {
      assert.equal(key, key.toLowerCase());
      const capitalized = key.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
      for (const name of [key, capitalized, key.toUpperCase()]) assert.equal(fieldKey(name), key, name);
    }
  });
});
