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
});
