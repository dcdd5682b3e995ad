import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { target } from './cluster-lb.js';
import { OutlierDetector } from './outlier.js';

const A = target('10.0.0.1', 80);
const B = target('10.0.0.2', 80);
const C = target('10.0.0.3', 80);

function detector(extra: Partial<ConstructorParameters<typeof OutlierDetector>[0]> = {}) {
  const clock = { t: 1_000 };
  const od = new OutlierDetector(
    { consecutive5xx: 3, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, ...extra },
    () => clock.t,
  );
  return { od, clock };
}
const fail = { kind: 'status', status: 500 } as const;
const ok = { kind: 'status', status: 200 } as const;

describe('outlier detection', () => {
  it('ejects after consecutive 5xx for base x ejections; a success resets the count', () => {
    const { od, clock } = detector();
    od.healthy([A, B]);
    od.report(A, fail);
    od.report(A, fail);
    od.report(A, ok);
    od.report(A, fail);
    od.report(A, fail);
    assert.deepEqual(od.healthy([A, B]), [A, B]);
    od.report(A, fail);
    assert.deepEqual(od.healthy([A, B]), [B]);
    clock.t += 29_999;
    assert.deepEqual(od.healthy([A, B]), [B]);
    clock.t += 1;
    assert.deepEqual(od.healthy([A, B]), [A, B]);
    // Second ejection right away: twice as long.
    for (let i = 0; i < 3; i++) od.report(A, fail);
    clock.t += 59_999;
    assert.deepEqual(od.healthy([A, B]), [B]);
    clock.t += 1;
    assert.deepEqual(od.healthy([A, B]), [A, B]);
  });

  it('connect failures and timeouts count as gateway errors when that detector is on', () => {
    const { od } = detector({ consecutive5xx: 0, consecutiveGatewayErrors: 2 });
    od.healthy([A, B]);
    od.report(A, { kind: 'status', status: 500 });
    od.report(A, { kind: 'status', status: 500 });
    assert.deepEqual(od.healthy([A, B]), [A, B]);
    od.report(A, { kind: 'connect-failure' });
    od.report(A, { kind: 'timeout' });
    assert.deepEqual(od.healthy([A, B]), [B]);
  });

  it('max ejection percent caps ejections, but the first host is always ejectable', () => {
    const { od } = detector({ maxEjectionPercent: 10 });
    od.healthy([A, B, C]);
    for (const t of [A, B]) for (let i = 0; i < 3; i++) od.report(t, fail);
    assert.deepEqual(od.healthy([A, B, C]), [B, C]);
    const single = detector({ maxEjectionPercent: 10 }).od;
    single.healthy([A]);
    for (let i = 0; i < 3; i++) single.report(A, fail);
    assert.deepEqual(single.healthy([A]), []);
    const none = detector({ maxEjectionPercent: 0 }).od;
    none.healthy([A]);
    for (let i = 0; i < 3; i++) none.report(A, fail);
    assert.deepEqual(none.healthy([A]), [A]);
  });
});
