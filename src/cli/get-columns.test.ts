import assert from 'node:assert/strict';
import { test } from 'node:test';
import { age, COLUMNS, type Row } from './get-columns.js';

test("AGE reads as kubectl's: coarser as it grows", () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
  const cases: [number, string][] = [
    [0, '0s'],
    [45, '45s'],
    [119, '119s'],
    [192, '3m12s'],
    [300, '5m'],
    [15 * 60, '15m'],
    [5 * 3600 + 120, '5h2m'],
    [20 * 3600, '20h'],
    [3 * 86400 + 4 * 3600, '3d4h'],
    [200 * 86400, '200d'],
    [(2 * 365 + 10) * 86400, '2y10d'],
    [9 * 365 * 86400, '9y'],
  ];
  for (const [seconds, expected] of cases) assert.equal(age(ago(seconds), now), expected, `${seconds}s ago`);
  assert.equal(age(undefined, now), '<none>');
  assert.equal(age(ago(-10), now), '<invalid>', 'a creation time in the future');
});

test("Istio kinds print their CRDs' printer columns, lists as JSON; -o wide adds the source", () => {
  const row: Row = {
    kind: 'ServiceEntry',
    namespace: 'default',
    name: 'se',
    source: { file: 'se.yaml', line: 3 },
    created: undefined,
    object: { spec: { hosts: ['aliyun.com'], location: 'MESH_EXTERNAL', resolution: 'DNS' } },
  };
  const ctx = { now: new Date(), proxies: [] };
  const cells = Object.fromEntries(COLUMNS.ServiceEntry.map((c) => [c.header, c.value(row, ctx)]));
  assert.deepEqual(cells, {
    HOSTS: '["aliyun.com"]',
    LOCATION: 'MESH_EXTERNAL',
    RESOLUTION: 'DNS',
    AGE: '<none>',
    SOURCE: 'se.yaml:3',
  });
  assert.deepEqual(
    COLUMNS.VirtualService.filter((c) => !c.wide).map((c) => c.header),
    ['GATEWAYS', 'HOSTS', 'AGE'],
  );
});
