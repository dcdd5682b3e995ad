import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RetryPolicy } from '../proxy-config/types.js';
import { target, type EndpointPicker } from './cluster-lb.js';
import type { UpstreamResponse } from './http1/types.js';
import { backoffMs, pickAvoiding, responseIsRetriable } from './retry.js';

/** A load balancer that answers from a script, to see which of its picks a retry keeps. */
function scripted(...picks: number[]): EndpointPicker & { calls: number } {
  const picker = {
    calls: 0,
    pick<T>(targets: readonly T[]): T {
      return targets[picks[picker.calls++] ?? 0]!;
    },
    track: () => () => {},
  };
  return picker;
}

it('previous_hosts: a retry re-picks (up to 5 times) while the pick is a host it tried; then takes one not tried', () => {
  const hosts = [target('127.0.0.1', 80), target('127.0.0.2', 80), target('127.0.0.3', 80)];
  const tried = new Set([hosts[0]!.key]);
  const picker = scripted(0, 0, 0, 2);
  assert.equal(pickAvoiding(picker, hosts, undefined, tried), hosts[2]);
  assert.equal(picker.calls, 4);
  // A balancer that keeps choosing the host that failed (least request: a dead host has nothing in flight).
  const stubborn = scripted(0, 0, 0, 0, 0, 0, 0, 0);
  assert.equal(pickAvoiding(stubborn, hosts, undefined, tried), hosts[1], 'after 5 re-picks, the first not tried');
  assert.equal(stubborn.calls, 6);
  const allTried = new Set(hosts.map((h) => h.key));
  assert.equal(pickAvoiding(scripted(2, 2, 2, 2, 2, 2), hosts, undefined, allTried), hosts[2], 'all tried: the pick');
  const alone = scripted(0, 0);
  assert.equal(pickAvoiding(alone, hosts.slice(0, 1), undefined, tried), hosts[0], 'the only host: no re-pick');
  assert.equal(alone.calls, 1);
});

it("back-off: Envoy's jittered exponential wait, drawn from the injected source", () => {
  // Retry n waits a draw in [0, (2^n - 1) * base], capped at 10 * base.
  assert.equal(
    backoffMs(1, 25, () => 0),
    0,
  );
  assert.equal(
    backoffMs(1, 25, () => 0.999),
    25,
  );
  assert.equal(
    backoffMs(3, 25, () => 0.5),
    88,
  );
  assert.equal(
    backoffMs(10, 25, () => 0.999),
    250,
    'capped at ten times the base',
  );
  assert.equal(
    backoffMs(2, 0, () => 0.999),
    75,
    'no base given: 25 ms',
  );
});

describe('responseIsRetriable', () => {
  const policy = (retryOn: string[], retriableStatusCodes: number[] = []): RetryPolicy => ({
    numRetries: 2,
    retryOn,
    retriableStatusCodes,
    backoffBaseMs: 1,
  });
  const response = (statusCode: number, rawHeaders: string[] = []) =>
    ({ statusCode, rawHeaders }) as unknown as UpstreamResponse;

  it('by status: 5xx, gateway-error, retriable-4xx, retriable-status-codes', () => {
    assert.equal(responseIsRetriable(response(500), policy(['5xx'])), true);
    assert.equal(responseIsRetriable(response(500), policy(['gateway-error'])), false);
    assert.equal(responseIsRetriable(response(503), policy(['gateway-error'])), true);
    assert.equal(responseIsRetriable(response(409), policy(['retriable-4xx'])), true);
    assert.equal(responseIsRetriable(response(418), policy(['retriable-status-codes'], [418])), true);
    assert.equal(responseIsRetriable(response(418), policy(['retriable-status-codes'], [419])), false);
    assert.equal(responseIsRetriable(response(200), policy(['5xx', 'gateway-error'])), false);
  });

  it('by grpc-status, in any case of the name, for the conditions the policy names', () => {
    const on = policy(['cancelled', 'unavailable']);
    assert.equal(responseIsRetriable(response(200, ['grpc-status', '14']), on), true);
    assert.equal(responseIsRetriable(response(200, ['Grpc-Status', '1']), on), true);
    assert.equal(responseIsRetriable(response(200, ['grpc-status', '4']), on), false);
    assert.equal(responseIsRetriable(response(200, ['grpc-status', '4']), policy(['deadline-exceeded'])), true);
    assert.equal(responseIsRetriable(response(200, ['grpc-message', '14', 'grpc-status', '0']), on), false);
    assert.equal(responseIsRetriable(response(200, ['content-type', 'application/grpc']), on), false);
  });
});
