import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EGRESS_GATEWAY } from './mesh.js';
import { podNames, podTemplateHash } from './pod-names.js';
import { declareProxies } from './proxies.js';
import { deployment } from './testing/fixtures.js';

describe('declared proxies and their pods', () => {
  it('one pod per replica, named as a ReplicaSet names them, the same on every call', () => {
    const [gateway, sleep] = declareProxies(
      [{ ...DEFAULT_EGRESS_GATEWAY, replicas: 2 }],
      [deployment('sleep', { app: 'sleep' }, 'default', { replicas: 3 })],
    );
    assert.equal(gateway!.pods.length, 2);
    assert.equal(sleep!.pods.length, 3);
    for (const pod of [...gateway!.pods, ...sleep!.pods])
      assert.match(
        pod,
        /^(istio-egressgateway|sleep)-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/,
      );
    assert.equal(new Set(sleep!.pods).size, 3, 'distinct names');
    assert.deepEqual(
      declareProxies([], [deployment('sleep', { app: 'sleep' }, 'default', { replicas: 3 })])[0]!.pods,
      sleep!.pods,
    );
  });

  it('scaling keeps the names of the replicas that stay; a changed template gets new names (a rollout)', () => {
    const template = { labels: { app: 'sleep' }, serviceAccount: 'sleep' };
    assert.deepEqual(podNames('sleep', template, 1), podNames('sleep', template, 3).slice(0, 1));
    const changed = podNames('sleep', { ...template, labels: { app: 'sleep', version: 'v2' } }, 1);
    assert.notEqual(changed[0], podNames('sleep', template, 1)[0]);
    assert.notEqual(podTemplateHash(template), podTemplateHash({ ...template, serviceAccount: 'other' }));
    assert.deepEqual(podNames('sleep', template, 0), []);
  });

  it("a Deployment of the gateway's name or pod labels is the gateway's: its replicas, and no sidecar", () => {
    const gatewayDeployment = deployment(
      'istio-egressgateway',
      { istio: 'egressgateway', app: 'istio-egressgateway' },
      'istio-system',
      { replicas: 2 },
    );
    const byLabels = deployment(
      'egress-pods',
      { istio: 'egressgateway', app: 'istio-egressgateway', v: '2' },
      'istio-system',
      {
        replicas: 3,
      },
    );
    assert.deepEqual(
      declareProxies([DEFAULT_EGRESS_GATEWAY], [gatewayDeployment, deployment('sleep', { app: 'sleep' })]).map((p) => [
        p.type,
        p.name,
        p.replicas,
      ]),
      [
        ['router', 'istio-egressgateway', 2],
        ['sidecar', 'sleep', 1],
      ],
    );
    assert.deepEqual(
      declareProxies([DEFAULT_EGRESS_GATEWAY], [byLabels]).map((p) => [p.type, p.name, p.replicas]),
      [['router', 'istio-egressgateway', 3]],
    );
    // In another namespace it is a workload of its own.
    const elsewhere = deployment('istio-egressgateway', { istio: 'egressgateway' }, 'default');
    assert.deepEqual(
      declareProxies([DEFAULT_EGRESS_GATEWAY], [elsewhere]).map((p) => [p.type, p.name, p.replicas]),
      [
        ['router', 'istio-egressgateway', 1],
        ['sidecar', 'istio-egressgateway', 1],
      ],
    );
  });
});
