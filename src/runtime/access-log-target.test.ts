import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessLogConfig } from '../proxy-config/types.js';
import { AccessLogTarget } from './access-log-target.js';

const log = (path: string, enabled = true): AccessLogConfig => ({ enabled, path, encoding: 'JSON' });

describe('where a proxy process writes an access-log line', () => {
  it('to the first config while it is still being applied: a worker that has it already serves and logs', () => {
    const t = new AccessLogTarget();
    assert.equal(t.current, undefined, 'no config yet: nothing could have served a request');
    const first = log('/dev/stdout');
    t.begin(first);
    assert.equal(t.current, first);
    t.end(true);
    assert.equal(t.current, first);
  });

  it('to the config in force when a new one fails to apply, and to no config that does not log', () => {
    const t = new AccessLogTarget();
    const inForce = log('/dev/stdout');
    t.begin(inForce);
    t.end(true);
    const other = log('/var/log/other.log');
    t.begin(other);
    assert.equal(t.current, inForce, 'the config in force logs: its target, while the other is applied');
    t.end(false);
    assert.equal(t.current, inForce);

    const off = new AccessLogTarget();
    const silent = log('', false);
    off.begin(silent);
    off.end(true);
    assert.equal(off.current, undefined);
  });

  it('turning logging on: lines from planes that already have the new config are kept', () => {
    const t = new AccessLogTarget();
    const silent = log('', false);
    t.begin(silent);
    t.end(true);
    const on = log('/dev/stdout');
    t.begin(on);
    assert.equal(t.current, on);
    t.end(false);
    assert.equal(t.current, undefined, 'the apply failed: the config in force does not log');
  });

  it('the next config, once applied, is where lines go; the one before no longer is', () => {
    const t = new AccessLogTarget();
    const a = log('/a.log');
    const b = log('/b.log');
    t.begin(a);
    t.end(true);
    t.begin(b);
    assert.equal(t.current, a, 'until b is in force, a (in force, logging) takes the lines');
    t.end(true);
    assert.equal(t.current, b);
  });
});
