import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConnectTo, parseConnectTo } from './connect-to.js';

describe('parseConnectTo', () => {
  it('parses all four parts, empty parts and bracketed IPv6', () => {
    assert.deepEqual(parseConnectTo('aliyun.com:80:127.0.0.1:8080'), {
      host1: 'aliyun.com',
      port1: 80,
      host2: '127.0.0.1',
      port2: 8080,
    });
    assert.deepEqual(parseConnectTo('::127.0.0.1:'), {
      host1: '',
      port1: undefined,
      host2: '127.0.0.1',
      port2: undefined,
    });
    assert.deepEqual(parseConnectTo('[::1]:80:[fe80::2]:81'), { host1: '::1', port1: 80, host2: 'fe80::2', port2: 81 });
    assert.deepEqual(parseConnectTo('A.test::[::1]:'), {
      host1: 'a.test',
      port1: undefined,
      host2: '::1',
      port2: undefined,
    });
  });

  it('rejects malformed specs with a clear message', () => {
    assert.throws(() => parseConnectTo('a:80:b'), /expected HOST1:PORT1:HOST2:PORT2/);
    assert.throws(() => parseConnectTo('a:x:b:80'), /PORT1 "x" is not a port number/);
    assert.throws(() => parseConnectTo('a:80:b:70000'), /PORT2 "70000"/);
    assert.throws(() => parseConnectTo('[::1:80:b:1'), /unterminated/);
    assert.throws(() => parseConnectTo('a:80:b:1:2'), /too many/);
  });
});

describe('applyConnectTo', () => {
  const rules = [
    parseConnectTo('aliyun.com:80:127.0.0.1:9000'),
    parseConnectTo(':443::8443'),
    parseConnectTo('other.test::127.0.0.9:'),
  ];
  it('follows curl: first matching rule, empty parts match anything or keep the original', () => {
    assert.deepEqual(applyConnectTo(rules, 'Aliyun.com', 80), { host: '127.0.0.1', port: 9000 });
    assert.deepEqual(applyConnectTo(rules, 'aliyun.com', 81), { host: 'aliyun.com', port: 81 });
    assert.deepEqual(applyConnectTo(rules, 'x.test', 443), { host: 'x.test', port: 8443 });
    assert.deepEqual(applyConnectTo(rules, 'other.test', 1234), { host: '127.0.0.9', port: 1234 });
  });
});
