import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeFiles } from './analysis.js';

const FILES = [
  {
    name: 'origination.yaml',
    content: `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep}
spec:
  selector: {matchLabels: {app: sleep}}
  template: {metadata: {labels: {app: sleep}}, spec: {containers: [{name: sleep}]}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api}
spec:
  host: api.example.com
  trafficPolicy:
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: MUTUAL, credentialName: api-client}
    - port: {number: 8443}
      tls: {mode: SIMPLE, caCertificates: /nonexistent/tollgate-test/ca.pem}
`,
  },
];

const codes = (secrets?: ReadonlyMap<string, { source: string }>) =>
  analyzeFiles(FILES, [], [], secrets)
    .filter((d) => d.code === 'TG1014' || d.code === 'TG1016')
    .map((d) => [d.code, d.field]);

describe('analyzeFiles', () => {
  it('files on their own: credentialNames are not checked (no secrets folder was read), file paths are', () => {
    assert.deepEqual(codes(), [['TG1016', 'spec.trafficPolicy.portLevelSettings[1].tls.caCertificates']]);
  });

  it('with the config directory’s secrets: a credentialName with no folder is reported', () => {
    assert.deepEqual(codes(new Map()), [
      ['TG1014', 'spec.trafficPolicy.portLevelSettings[0].tls.credentialName'],
      ['TG1016', 'spec.trafficPolicy.portLevelSettings[1].tls.caCertificates'],
    ]);
  });
});
