import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PodAddressPool } from './pod-addresses.js';

test('hands out loopback addresses in order, stable per key, reused after release', () => {
  const pool = new PodAddressPool('127.0.100.0/24');
  assert.equal(pool.acquire('gw'), '127.0.100.1');
  assert.equal(pool.acquire('sleep'), '127.0.100.2');
  assert.equal(pool.acquire('gw'), '127.0.100.1');
  pool.release('gw');
  assert.equal(pool.acquire('other'), '127.0.100.1');
});

test('skips 127.0.0.1 and refuses ranges outside loopback or exhausted', () => {
  const pool = new PodAddressPool('127.0.0.0/30');
  assert.equal(pool.acquire('a'), '127.0.0.2');
  assert.throws(() => pool.acquire('b'), /no pod address left/);
  assert.throws(() => new PodAddressPool('10.0.0.0/24'), /loopback/);
  assert.throws(() => new PodAddressPool('127.0.0.1'), /CIDR/);
});

test('stand-in sites take addresses from the top of the range, apart from the pods', () => {
  const pool = new PodAddressPool('127.0.100.0/24');
  assert.equal(pool.acquireFromTop('stand-in/aliyun.com'), '127.0.100.254');
  assert.equal(pool.acquireFromTop('stand-in/example.com'), '127.0.100.253');
  assert.equal(pool.acquire('gw'), '127.0.100.1');
  assert.equal(pool.acquireFromTop('stand-in/aliyun.com'), '127.0.100.254');
});

test('capacity: the addresses a range hands out, without network, broadcast and 127.0.0.1', () => {
  assert.equal(new PodAddressPool('127.0.100.0/24').capacity, 254);
  assert.equal(new PodAddressPool('127.0.100.0/28').capacity, 14);
  assert.equal(new PodAddressPool('127.0.0.0/30').capacity, 1);
  const pool = new PodAddressPool('127.0.100.0/29');
  const got = Array.from({ length: 7 }, (_, i) => pool.tryAcquire(`k${i}`));
  assert.equal(got.filter((ip) => ip !== undefined).length, pool.capacity);
  assert.equal(got.at(-1), undefined, 'past capacity: no address, no throw');
});
