// Request IDs made ahead: each is a random (version 4) UUID, and none is handed out twice.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareRequestId, takeRequestId } from './request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request IDs', () => {
  it('are UUIDs, never the same twice, whether one was made ahead or not', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      if (i % 3 === 0) prepareRequestId();
      if (i % 7 === 0) prepareRequestId();
      const id = takeRequestId();
      assert.match(id, UUID_V4);
      assert.equal(seen.has(id), false, `${id} handed out twice`);
      seen.add(id);
    }
  });

  it('vary in every random digit, across many refills of the random bytes', () => {
    // Per position, the digits seen over 5,000 IDs (20 refills): each random one takes all 16 values; the variant
    // digit takes 8, 9, a and b; the version digit is always 4.
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 5000; i++) {
      const id = takeRequestId();
      for (let at = 0; at < 36; at++) seen[at]!.add(id[at]!);
    }
    seen.forEach((digits, at) => {
      if ([8, 13, 18, 23].includes(at)) assert.deepEqual([...digits], ['-']);
      else if (at === 14) assert.deepEqual([...digits], ['4']);
      else if (at === 19) assert.deepEqual([...digits].sort(), ['8', '9', 'a', 'b']);
      else assert.equal(digits.size, 16, `position ${at}: ${[...digits].sort().join('')}`);
    });
  });
});
