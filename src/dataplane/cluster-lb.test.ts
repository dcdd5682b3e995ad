import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPicker, hashString, target } from './cluster-lb.js';

describe('load balancing', () => {
  it('smooth weighted round robin interleaves by weight', () => {
    const ts = [target('10.0.0.1', 80, 5), target('10.0.0.2', 80, 1), target('10.0.0.3', 80, 1)];
    const rr = createPicker('ROUND_ROBIN');
    const seq = Array.from({ length: 14 }, () => rr.pick(ts).ip.slice(-1)).join('');
    assert.equal(seq, '11213111121311');
  });

  it('equal weights rotate', () => {
    const ts = [target('10.0.0.1', 80), target('10.0.0.2', 80), target('10.0.0.3', 80)];
    const rr = createPicker('ROUND_ROBIN');
    assert.deepEqual(
      Array.from({ length: 6 }, () => rr.pick(ts).ip.slice(-1)),
      ['1', '2', '3', '1', '2', '3'],
    );
  });

  it('consistent hashing: a key always picks the same endpoint; removing another endpoint does not move it', () => {
    const ts = Array.from({ length: 8 }, (_, i) => target(`10.0.0.${i + 1}`, 80));
    const p = createPicker('RANDOM', true);
    const moved: string[] = [];
    const spread = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const h = hashString(`user-${k}`);
      const first = p.pick(ts, h);
      assert.equal(p.pick(ts, h), first);
      spread.add(first.key);
      const without = ts.filter((t) => t !== (first === ts[0] ? ts[1] : ts[0]));
      if (p.pick(without, h) !== first) moved.push(`user-${k}`);
    }
    assert.deepEqual(moved, []);
    assert.equal(spread.size, 8);
  });

  it('consistent hashing honours weights roughly in proportion', () => {
    const ts = [target('10.0.0.1', 80, 3), target('10.0.0.2', 80, 1)];
    const p = createPicker('ROUND_ROBIN', true);
    let heavy = 0;
    for (let k = 0; k < 4000; k++) if (p.pick(ts, hashString(`k${k}`)) === ts[0]) heavy++;
    assert.ok(heavy > 2700 && heavy < 3300, String(heavy));
  });

  it('RANDOM and LEAST_REQUEST draw from the injected source: the same draws pick the same endpoints', () => {
    const ts = [target('10.0.0.1', 80, 1), target('10.0.0.2', 80, 3)];
    const draws = (...xs: number[]) => {
      let i = 0;
      return () => xs[i++ % xs.length]!;
    };
    const random = createPicker('RANDOM', false, draws(0.1, 0.3, 0.9));
    // Weights 1:3 split [0, 4): 0.4 falls on the first, 1.2 and 3.6 on the second.
    assert.deepEqual(
      [random.pick(ts).ip, random.pick(ts).ip, random.pick(ts).ip],
      ['10.0.0.1', '10.0.0.2', '10.0.0.2'],
    );
    const least = createPicker('LEAST_REQUEST', false, draws(0.1, 0.9));
    const busy = least.track(ts[0]!);
    assert.equal(least.pick(ts).ip, '10.0.0.2', 'of the two drawn, the one with fewer requests in flight');
    busy();
    const tie = createPicker('LEAST_REQUEST', false, draws(0.1, 0.1));
    assert.equal(tie.pick(ts).ip, '10.0.0.1', 'both draws land on the first');
  });
});
