import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLACKHOLE_CLUSTER } from '../proxy-config/types.js';
import { target } from './cluster-lb.js';
import { controlPlaneMatcher, guardTargets } from './destination-guard.js';
import { ProxyError } from './errors.js';
import { StreamInfo } from './stream-info.js';

describe('control-plane matcher', () => {
  const isControlPlane = controlPlaneMatcher([
    { host: '10.0.0.5', port: 15010 },
    { host: '[FD00::7]', port: 15010 },
    { host: 'localhost', port: 15000 },
    { host: '0.0.0.0', port: 9901 },
  ]);

  it('matches an exact address on its port only, IPv4-mapped and upper-case IPv6 included', () => {
    assert.equal(isControlPlane('10.0.0.5', 15010), true);
    assert.equal(isControlPlane('::ffff:10.0.0.5', 15010), true);
    assert.equal(isControlPlane('fd00::7', 15010), true);
    assert.equal(isControlPlane('FD00::7', 15010), true);
    assert.equal(isControlPlane('10.0.0.5', 15011), false);
    assert.equal(isControlPlane('10.0.0.6', 15010), false);
  });

  it('takes a loopback name for the whole loopback range, and an unspecified address for every address', () => {
    assert.equal(isControlPlane('127.0.0.1', 15000), true);
    assert.equal(isControlPlane('127.3.4.5', 15000), true);
    assert.equal(isControlPlane('::1', 15000), true);
    assert.equal(isControlPlane('10.0.0.5', 15000), false);
    assert.equal(isControlPlane('203.0.113.9', 9901), true);
  });

  it('matches nothing when there is no control plane', () => {
    assert.equal(controlPlaneMatcher([])('127.0.0.1', 15010), false);
  });
});

describe('guardTargets', () => {
  const own = { ip: '127.0.0.2', port: 15001 };
  const deps = {
    isOwnListener: (ip: string, port: number) => ip === own.ip && port === own.port,
    isControlPlane: controlPlaneMatcher([{ host: '10.0.0.5', port: 15010 }]),
  };
  const original = { host: 'example.com', port: 80 };

  it('hands back the very same targets when none is left out', () => {
    const targets = [target('10.0.0.1', 80), target('10.0.0.2', 80)];
    assert.equal(guardTargets(targets, deps, original, new StreamInfo(0)), targets);
  });

  it('leaves out the proxy itself and the control plane, keeping the rest in order', () => {
    const targets = [target('127.0.0.2', 15001), target('10.0.0.1', 80), target('10.0.0.5', 15010)];
    assert.deepEqual(guardTargets(targets, deps, original, new StreamInfo(0)), [target('10.0.0.1', 80)]);
  });

  it('refuses a request whose only target is the proxy itself (loop) or the control plane', () => {
    const info = new StreamInfo(0);
    assert.throws(
      () => guardTargets([target('127.0.0.2', 15001)], deps, original, info),
      (err: unknown) => err instanceof ProxyError && err.code === 'request_loop',
    );
    assert.equal(info.upstreamCluster, BLACKHOLE_CLUSTER);
    assert.throws(
      () => guardTargets([target('10.0.0.5', 15010)], deps, original, new StreamInfo(0)),
      (err: unknown) => err instanceof ProxyError && err.code === 'protected_destination',
    );
  });
});
