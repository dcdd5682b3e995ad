import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchedOutput } from './batched-output.js';
import { LineEncoder } from './log-buffer.js';

/** A BatchedOutput whose writes are collected as text. */
function collect(intervalMs: number, maxBytes: number): { out: BatchedOutput; writes: string[]; raw: Buffer[] } {
  const writes: string[] = [];
  const raw: Buffer[] = [];
  const out = new BatchedOutput(
    (bytes) => {
      raw.push(bytes);
      writes.push(bytes.toString('utf8'));
    },
    intervalMs,
    maxBytes,
  );
  return { out, writes, raw };
}

test('lines wait for the interval, then go out in one write', async () => {
  const { out, writes } = collect(20, 1024);
  out.write('a');
  out.write('b');
  assert.deepEqual(writes, []);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(writes, ['a\nb\n']);
  out.write('c');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(writes, ['a\nb\n', 'c\n']);
});

test('a full batch goes out at once; a line that does not fit sends what waits first', () => {
  const { out, writes } = collect(60_000, 10);
  out.write('1234');
  assert.deepEqual(writes, []);
  out.write('5678');
  assert.deepEqual(writes, ['1234\n5678\n'], 'exactly full');
  out.write('abc');
  out.write('defghi');
  assert.deepEqual(writes, ['1234\n5678\n', 'abc\n'], 'the second line did not fit after the first');
  out.flush();
  assert.deepEqual(writes, ['1234\n5678\n', 'abc\n', 'defghi\n']);
  out.flush();
  assert.equal(writes.length, 3, 'nothing left to write');
});

test('multi-byte characters are never cut at the end of a batch', () => {
  const { out, writes } = collect(60_000, 12);
  out.write('ab');
  // 5 characters, 10 bytes: 9 bytes of room are left after "ab\n", which 5 characters would seem to fit.
  out.write('ééééé');
  out.write('€😀');
  out.flush();
  assert.deepEqual(writes, ['ab\n', 'ééééé\n', '€😀\n']);
  for (const w of writes) assert.ok(Buffer.byteLength(w) <= 12);
});

test('a line longer than the whole batch goes out in its own write, after what waits', () => {
  const { out, writes } = collect(60_000, 8);
  out.write('x');
  out.write('a line of more than eight bytes');
  out.write('y');
  out.flush();
  assert.deepEqual(writes, ['x\n', 'a line of more than eight bytes\n', 'y\n']);
});

test('flush writes what is waiting and cancels the timer', async () => {
  const { out, writes } = collect(20, 1024);
  out.write('x');
  out.flush();
  assert.deepEqual(writes, ['x\n']);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(writes, ['x\n']);
});

test("the sink's bytes stay as they were when the batch fills again", () => {
  const { out, raw } = collect(60_000, 1024);
  out.write('first');
  out.flush();
  out.write('second, longer');
  out.flush();
  assert.equal(raw[0]!.toString(), 'first\n');
  assert.equal(raw[1]!.toString(), 'second, longer\n');
});

test('randomized lines come out whole and in order, in batches no larger than the limit', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = ['a', 'Z', '0', ' ', '"', 'é', 'ß', '€', '中', '😀'];
  const { out, raw } = collect(60_000, 64);
  const encoder = new LineEncoder();
  const lines: string[] = [];
  for (let i = 0; i < 2_000; i++) {
    let line = '';
    for (let n = rand(40); n > 0; n--) line += alphabet[rand(alphabet.length)];
    lines.push(line);
    // Lines as text and lines already encoded, mixed.
    if (rand(2) === 0) out.write(line);
    else out.writeBytes(encoder.bytes, encoder.encode(line));
  }
  out.flush();
  assert.equal(Buffer.concat(raw).toString('utf8'), lines.map((l) => `${l}\n`).join(''));
  for (const b of raw) {
    const text = b.toString('utf8');
    assert.ok(text.endsWith('\n'), 'every write ends a line');
    if (text.split('\n').length > 2) assert.ok(b.length <= 64, 'a batch of several lines fits the limit');
  }
});

test('lines already encoded: a full batch goes at once, a line longer than the batch in its own write', () => {
  const { out, writes, raw } = collect(60_000, 8);
  const encoder = new LineEncoder();
  out.writeBytes(encoder.bytes, encoder.encode('abc'));
  assert.deepEqual(writes, []);
  out.writeBytes(encoder.bytes, encoder.encode('def'));
  assert.deepEqual(writes, ['abc\ndef\n'], '8 bytes exactly');
  out.writeBytes(encoder.bytes, encoder.encode('x'));
  assert.deepEqual(writes, ['abc\ndef\n'], 'x waits');
  out.writeBytes(encoder.bytes, encoder.encode('longer than eight'));
  assert.deepEqual(writes, ['abc\ndef\n', 'x\n', 'longer than eight\n']);
  const own = raw[2]!;
  encoder.encode('overwrites the scratch');
  assert.equal(own.toString(), 'longer than eight\n', "the sink's bytes are its own, not the encoder's");
});
