import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListen } from './cmd-up.js';
import { parseTimeout } from './files.js';
import { parseKind, qualifiedName } from './kinds.js';

test('kind names as kubectl users type them', () => {
  assert.equal(parseKind('vs'), 'VirtualService');
  assert.equal(parseKind('serviceentries'), 'ServiceEntry');
  assert.equal(parseKind('DestinationRule'), 'DestinationRule');
  assert.equal(parseKind('gateway.networking.istio.io'), 'Gateway');
  assert.equal(parseKind('deploy'), 'Deployment');
  assert.throws(() => parseKind('pods'), /unknown resource type "pods"/);
  assert.equal(qualifiedName('Deployment', 'sleep'), 'deployment.apps/sleep');
  assert.equal(qualifiedName('Service', 'sleep'), 'service/sleep');
  assert.equal(qualifiedName('ServiceEntry', 'x'), 'serviceentry.networking.istio.io/x');
});

test('listen addresses and timeouts', () => {
  assert.deepEqual(parseListen('127.0.0.1:15010'), { host: '127.0.0.1', port: 15010 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':8080'), { host: '127.0.0.1', port: 8080 });
  assert.throws(() => parseListen('localhost'), /HOST:PORT/);
  assert.equal(parseTimeout('30s'), 30_000);
  assert.equal(parseTimeout('2m'), 120_000);
  assert.equal(parseTimeout('250ms'), 250);
  assert.throws(() => parseTimeout('soon'), /duration/);
});

test('proxy concurrency: Istio-like defaults, and a clear refusal of anything but 1 to 64', async () => {
  const { proxyConcurrency } = await import('./cmd-components.js');
  assert.equal(proxyConcurrency('router', undefined), 2);
  assert.equal(proxyConcurrency('sidecar', undefined), 1);
  assert.equal(proxyConcurrency('sidecar', '4'), 4);
  for (const bad of ['0', '65', '1.5', 'two', '']) {
    assert.throws(() => proxyConcurrency('sidecar', bad), /^Error: --concurrency .*: expected a number from 1 to 64$/);
  }
});
