import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimPodRange } from './pod-range.js';

// Random ranges, so the test collides with no mesh running on this machine (another test run included).
const octet = (): number => 2 + Math.floor(Math.random() * 250);
const ranges = (): [string, string] => {
  const a = octet();
  const b = octet();
  return [`127.${a}.${b}.0/24`, `127.${a}.${b === 254 ? 253 : b + 1}.0/24`];
};

test('a mesh claims its pod range; a second mesh takes the next free one and says who holds the first', async () => {
  const [first, second] = ranges();
  const a = await claimPodRange(undefined, () => 'http://127.0.0.1:15010', [first, second]);
  try {
    assert.equal(a.cidr, first);
    assert.deepEqual(a.skipped, []);
    const b = await claimPodRange(undefined, () => 'http://127.0.0.1:15011', [first, second]);
    try {
      assert.equal(b.cidr, second);
      assert.equal(b.skipped.length, 1);
      assert.equal(b.skipped[0]!.cidr, first);
      assert.match(b.skipped[0]!.holder, /^controller http:\/\/127\.0\.0\.1:15010, pid \d+$/);
    } finally {
      await b.release();
    }
  } finally {
    await a.release();
  }
});

test('a range given with --pod-cidr that another mesh holds is refused with the hint; a released one is free', async () => {
  const [first] = ranges();
  const a = await claimPodRange(first, () => 'http://127.0.0.1:15010');
  await assert.rejects(
    claimPodRange(first, () => 'http://127.0.0.1:15011'),
    new RegExp(
      `^Error: pod addresses ${first.replace(/\./g, '\\.')} are in use by another tollgate mesh \\(controller http://127\\.0\\.0\\.1:15010, pid \\d+\\); leave out --pod-cidr`,
    ),
  );
  await a.release();
  const again = await claimPodRange(first, () => 'x');
  assert.equal(again.cidr, first);
  await again.release();
});

test('a range outside loopback is refused before anything listens', async () => {
  await assert.rejects(
    claimPodRange('10.0.0.0/24', () => 'x'),
    /loopback/,
  );
});
