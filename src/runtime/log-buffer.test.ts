import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineEncoder, LogBuffer } from './log-buffer.js';

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

test('a line too long for the bytes left drops the oldest lines it needs room from, in order', () => {
  // 20 bytes: each line below takes 6 (5 and its newline).
  const logs = new LogBuffer(100, 20);
  for (const l of ['aaaaa', 'bbbbb', 'ccccc']) logs.push(l);
  assert.deepEqual(logs.tail(), ['aaaaa', 'bbbbb', 'ccccc']);
  // 2 bytes left at the end: the line starts over at 0, over the oldest.
  logs.push('ddddd');
  assert.deepEqual(logs.tail(), ['bbbbb', 'ccccc', 'ddddd']);
  logs.push('eeeeeeeeeee');
  assert.deepEqual(logs.tail(), ['ddddd', 'eeeeeeeeeee']);
});

test('lines in any script come back as they went in, and a line longer than the buffer is cut at a character', () => {
  const logs = new LogBuffer(10, 16);
  logs.push('héllo wörld');
  logs.push('');
  assert.deepEqual(logs.tail(), ['héllo wörld', '']);
  logs.push('日本語のテキストです');
  const [cut] = logs.tail(1);
  assert.ok('日本語のテキストです'.startsWith(cut!), cut);
  assert.equal(cut, '日本語のテ', '15 bytes of 3-byte characters, and the newline');
});

test('whatever the lengths, it keeps exactly the newest lines that fit, by count and by bytes', () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const capacity = 25;
  const maxBytes = 300;
  const logs = new LogBuffer(capacity, maxBytes);
  const all: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const line = `${i}:${'x€'.repeat(random(40))}`;
    logs.push(line);
    all.push(line);
    const kept = logs.tail();
    // The newest line is always there, and what is kept is a run of the newest lines, in order.
    assert.equal(kept.at(-1), line);
    assert.deepEqual(kept, all.slice(all.length - kept.length));
    assert.ok(kept.length <= capacity);
    const bytes = kept.reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);
    assert.ok(bytes <= maxBytes, `${bytes} bytes kept`);
    // Lines go only for room: with the next older one, what is kept would take more than half the buffer (a wrap
    // leaves at most one line's bytes unused at the end).
    if (kept.length < capacity && kept.length < all.length) {
      const older = all[all.length - kept.length - 1]!;
      assert.ok(bytes + Buffer.byteLength(older) + 1 > maxBytes / 2, 'dropped a line with room to spare');
    }
  }
});

test('entries number the lines in the order they came', () => {
  const logs = new LogBuffer(3, 64);
  for (let i = 0; i < 5; i++) logs.push(`l${i}`);
  const entries = logs.entries();
  assert.deepEqual(
    entries.map((e) => e.line),
    ['l2', 'l3', 'l4'],
  );
  assert.ok(entries[0]!.seq < entries[1]!.seq && entries[1]!.seq < entries[2]!.seq);
});

test('the line encoder writes UTF-8 at the start of its scratch, and grows for a line that does not fit', () => {
  const encoder = new LineEncoder();
  const first = encoder.bytes;
  for (const line of ['plain', 'é€😀', '']) {
    const n = encoder.encode(line);
    assert.equal(encoder.bytes.toString('utf8', 0, n), line);
    assert.equal(n, Buffer.byteLength(line));
  }
  assert.equal(encoder.bytes, first, 'short lines use the same scratch');
  const long = `${'€'.repeat(first.length)}end`;
  const n = encoder.encode(long);
  assert.equal(n, Buffer.byteLength(long));
  assert.equal(encoder.bytes.toString('utf8', 0, n), long);
  // A line of ASCII as long as the scratch fits without growing it.
  const grown = encoder.bytes;
  const ascii = 'a'.repeat(grown.length);
  assert.equal(encoder.encode(ascii), grown.length);
  assert.equal(encoder.bytes, grown);
});

test('a line given as bytes is kept as push keeps it, cut at a character boundary when longer than the buffer', () => {
  const encoder = new LineEncoder();
  const logs = new LogBuffer(4, 8);
  logs.pushBytes(encoder.bytes, encoder.encode('ab'), 'ab');
  // 5 characters of 2 bytes: 7 bytes of room before the newline, so 3 characters are kept.
  logs.pushBytes(encoder.bytes, encoder.encode('ééééé'), 'ééééé');
  assert.deepEqual(logs.tail(), ['ééé']);
});
