// A listener bound for a config that is not swapped in yet (a push still binding its other listeners; under
// node:cluster a worker is handed connections as soon as its listener is bound) serves with the config it was
// opened for, instead of resetting the connection.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { compileConfig } from './compile-config.js';
import { ListenerHandle } from './listener.js';
import type { PlaneContext } from './request-handler.js';
import { anyMatch, send, sidecarConfig } from './testing/fixtures.js';

describe('a listener opened before its config is in force', () => {
  const config = compileConfig(
    sidecarConfig({
      defaultRoute: { name: 'answer', match: anyMatch, action: { kind: 'direct', status: 200, body: 'early' } },
    }),
  );
  const completed: number[] = [];
  const ctx = {
    now: Date.now,
    warn: () => {},
    completeStream: (info: { responseCode: number | undefined }) => completed.push(info.responseCode ?? 0),
  } as unknown as PlaneContext;
  let current: typeof config | undefined;
  let handle: ListenerHandle;
  after(() => handle?.close(0));

  it('serves with the config it was opened for, then with the one in force', async () => {
    handle = await ListenerHandle.open(
      'virtualOutbound',
      '127.0.0.1',
      0,
      { ctx, currentConfig: () => current },
      config,
    );
    const early = await send(handle.boundPort, 'http://site.test/');
    assert.equal(early.status, 200);
    assert.equal(early.body, 'early');
    // Once swapped in, the config in force is what counts: a later one without this listener would not serve it.
    current = config;
    handle.opening = undefined;
    const later = await send(handle.boundPort, 'http://site.test/');
    assert.equal(later.status, 200);
    assert.deepEqual(completed, [200, 200]);
  });
});
