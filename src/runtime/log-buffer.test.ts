import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogBuffer } from './log-buffer.js';

test('keeps the last lines in order once it wraps around, any number of times', () => {
  const logs = new LogBuffer(3);
  assert.deepEqual(logs.tail(), []);
  for (let i = 1; i <= 2; i++) logs.push(`l${i}`);
  assert.deepEqual(logs.tail(), ['l1', 'l2']);
  for (let i = 3; i <= 10; i++) logs.push(`l${i}`);
  assert.deepEqual(logs.tail(), ['l8', 'l9', 'l10']);
  assert.equal(logs.length, 3);
});

test('tail n: the newest n, all when n is larger, none for 0', () => {
  const logs = new LogBuffer(4);
  for (let i = 1; i <= 6; i++) logs.push(`l${i}`);
  assert.deepEqual(logs.tail(2), ['l5', 'l6']);
  assert.deepEqual(logs.tail(10), ['l3', 'l4', 'l5', 'l6']);
  assert.deepEqual(logs.tail(0), []);
});

test('followers see each line as it is added, until they stop following', () => {
  const logs = new LogBuffer(2);
  const seen: string[] = [];
  const stop = logs.follow((l) => seen.push(l));
  logs.push('a');
  logs.push('b');
  logs.push('c');
  stop();
  logs.push('d');
  assert.deepEqual(seen, ['a', 'b', 'c']);
});

test('a capacity below one is refused', () => {
  assert.throws(() => new LogBuffer(0), /capacity 0/);
});
