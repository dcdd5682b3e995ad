import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml } from '../ingest/index.js';

const doc = (kind: string, apiVersion: string, name: string, namespace?: string): string =>
  `apiVersion: ${apiVersion}
kind: ${kind}
metadata:
  name: ${JSON.stringify(name)}
${namespace === undefined ? '' : `  namespace: ${JSON.stringify(namespace)}\n`}spec:
  hosts: [a.example.com]
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com]}]
`;

const se = (name: string, namespace?: string) => doc('ServiceEntry', 'networking.istio.io/v1', name, namespace);

function codes(text: string): string[] {
  return parseYaml(text, 'in.yaml')
    .diagnostics.filter((d) => d.level === 'error')
    .map((d) => `${d.code} ${d.field}`);
}

describe('names and namespaces, as the Kubernetes API server checks them', () => {
  it('a name that is not a DNS-1123 subdomain is refused with TG0012 at metadata.name', () => {
    for (const name of ['x/y', 'x_y', 'Upper', '-a', 'a-', 'a..b', '', 'a'.repeat(254)]) {
      assert.deepEqual(codes(se(name)), ['TG0012 metadata.name'], name);
    }
    const d = parseYaml(se('x/y'), 'in.yaml').diagnostics.find((x) => x.code === 'TG0012')!;
    assert.equal(d.position?.line, 4);
    assert.match(d.message, /invalid ServiceEntry name "x\/y": must be a DNS-1123 subdomain/);
  });

  it('a namespace that is not a DNS-1123 label is refused with TG0013', () => {
    for (const ns of ['a.b', 'a_b', 'A', 'a'.repeat(64)]) {
      assert.deepEqual(codes(se('c', ns)), ['TG0013 metadata.namespace'], ns);
    }
  });

  it('dots in names are fine where Kubernetes allows them; Services need DNS-1035 labels; Gateways DNS-1123 labels', () => {
    assert.deepEqual(codes(se('b.c', 'a')), []);
    assert.deepEqual(codes(se('a'.repeat(253))), []);
    assert.deepEqual(codes(doc('Service', 'v1', 'web.v2')), ['TG0012 metadata.name']);
    assert.deepEqual(codes(doc('Service', 'v1', '1web')), ['TG0012 metadata.name']);
    assert.deepEqual(codes(doc('Gateway', 'networking.istio.io/v1', 'egress.gw')), ['TG0138 metadata.name']);
  });
});
