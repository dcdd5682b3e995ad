import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchedOutput } from './batched-output.js';

test('lines wait for the interval, then go out in one write', async () => {
  const writes: string[] = [];
  const out = new BatchedOutput((t) => writes.push(t), 20, 1024);
  out.write('a');
  out.write('b');
  assert.deepEqual(writes, []);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(writes, ['a\nb\n']);
  out.write('c');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(writes, ['a\nb\n', 'c\n']);
});

test('a batch reaching the size limit goes out at once', () => {
  const writes: string[] = [];
  const out = new BatchedOutput((t) => writes.push(t), 60_000, 8);
  out.write('1234');
  assert.deepEqual(writes, []);
  out.write('5678');
  assert.deepEqual(writes, ['1234\n5678\n']);
  out.flush();
  assert.deepEqual(writes, ['1234\n5678\n'], 'nothing left to write');
});

test('flush writes what is waiting and cancels the timer', async () => {
  const writes: string[] = [];
  const out = new BatchedOutput((t) => writes.push(t), 20, 1024);
  out.write('x');
  out.flush();
  assert.deepEqual(writes, ['x\n']);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(writes, ['x\n']);
});
