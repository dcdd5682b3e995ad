import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyResource, Kind, Resource } from '../model/index.js';
import { parseYaml } from './index.js';
import { EGRESS_TASK_YAML, ISTIO_OPERATOR_YAML, SLEEP_YAML } from './testdata/egress-task.js';

function only<K extends Kind>(resources: AnyResource[], kind: K, name?: string): Resource<K> {
  const found = resources.filter((r) => r.kind === kind && (name === undefined || r.meta.name === name));
  assert.equal(found.length, 1, `expected one ${kind} ${name ?? ''}, got ${found.length}`);
  return found[0] as unknown as Resource<K>;
}

describe('parseYaml: the egress gateway task', () => {
  const { resources, diagnostics } = parseYaml(EGRESS_TASK_YAML, 'egress.yaml');

  it('reads every document without diagnostics', () => {
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      resources.map((r) => r.kind),
      ['ServiceEntry', 'ServiceEntry', 'Gateway', 'DestinationRule', 'VirtualService'],
    );
  });

  it('normalizes ServiceEntries: protocols upper-cased, defaults filled', () => {
    const cnn = only(resources, 'ServiceEntry', 'cnn');
    assert.equal(cnn.meta.namespace, 'default');
    assert.deepEqual(cnn.spec.hosts, ['edition.cnn.com']);
    assert.deepEqual(cnn.spec.ports, [
      { number: 80, name: 'http-port', protocol: 'HTTP' },
      { number: 443, name: 'tls', protocol: 'TLS' },
    ]);
    assert.equal(cnn.spec.resolution, 'DNS');
    assert.equal(cnn.spec.location, 'MESH_EXTERNAL');
    assert.deepEqual(cnn.spec.exportTo, []);
    const httpbin = only(resources, 'ServiceEntry', 'httpbin-ext');
    assert.equal(httpbin.spec.ports[0]?.protocol, 'HTTP');
  });

  it('reads the Gateway with an HTTP server and a TLS PASSTHROUGH server', () => {
    const gw = only(resources, 'Gateway');
    assert.deepEqual(gw.spec.selector, { istio: 'egressgateway' });
    assert.equal(gw.spec.servers.length, 2);
    assert.equal(gw.spec.servers[0]?.tls, undefined);
    assert.equal(gw.spec.servers[1]?.port.protocol, 'TLS');
    assert.equal(gw.spec.servers[1]?.tls?.mode, 'PASSTHROUGH');
    assert.equal(gw.spec.servers[1]?.tls?.httpsRedirect, false);
  });

  it('reads the DestinationRule subset with port-level ISTIO_MUTUAL and sni', () => {
    const dr = only(resources, 'DestinationRule');
    assert.equal(dr.spec.host, 'istio-egressgateway.istio-system.svc.cluster.local');
    const subset = dr.spec.subsets[0];
    assert.equal(subset?.name, 'cnn');
    const pl = subset?.trafficPolicy?.portLevelSettings[0];
    assert.equal(pl?.port, 80);
    assert.equal(pl?.tls?.mode, 'ISTIO_MUTUAL');
    assert.equal(pl?.tls?.sni, 'edition.cnn.com');
  });

  it('qualifies gateway references and fills route defaults in the VirtualService', () => {
    const vs = only(resources, 'VirtualService');
    assert.deepEqual(vs.spec.gateways, ['default/istio-egressgateway', 'mesh']);
    const [mesh, egress] = vs.spec.http;
    assert.deepEqual(mesh?.match[0]?.gateways, ['mesh']);
    assert.equal(mesh?.match[0]?.port, 80);
    assert.deepEqual(mesh?.route[0]?.destination, {
      host: 'istio-egressgateway.istio-system.svc.cluster.local',
      subset: 'cnn',
      port: 80,
    });
    assert.deepEqual(egress?.match[0]?.gateways, ['default/istio-egressgateway']);
    assert.equal(egress?.timeoutMs, 3000);
  });

  it('keeps each document text exactly as written and its start position', () => {
    const gw = only(resources, 'Gateway');
    assert.ok(gw.text.startsWith('apiVersion: networking.istio.io/v1\nkind: Gateway\n'));
    assert.ok(gw.text.endsWith('      mode: PASSTHROUGH\n'));
    assert.ok(!gw.text.includes('---'));
    const line = EGRESS_TASK_YAML.split('\n').indexOf('kind: Gateway');
    assert.deepEqual(gw.source, { file: 'egress.yaml', line, col: 1 });
  });

  it('records the line and column of deep fields', () => {
    const vs = only(resources, 'VirtualService');
    const lines = EGRESS_TASK_YAML.split('\n');
    const hostLine =
      lines.findIndex((l, i) => i > lines.indexOf('kind: VirtualService') && l.includes('host: istio-egressgateway')) +
      1;
    const pos = vs.positions.get('spec.http[0].route[0].destination.host');
    assert.deepEqual(pos, {
      file: 'egress.yaml',
      line: hostLine,
      col: lines[hostLine - 1]!.indexOf('istio-egressgateway') + 1,
    });
    assert.equal(vs.positions.get('spec.http[1].timeout')?.line, lines.lastIndexOf('    timeout: 3s') + 1);
  });
});

describe('parseYaml: IstioOperator, IstioGateway and the sleep workload', () => {
  it('reads meshConfig fields present and the egress gateway with default ports and labels', () => {
    const { resources, diagnostics } = parseYaml(ISTIO_OPERATOR_YAML, 'iop.yaml');
    assert.deepEqual(diagnostics, []);
    const iop = only(resources, 'IstioOperator');
    assert.deepEqual(iop.spec.meshConfig, {
      outboundTrafficPolicy: 'REGISTRY_ONLY',
      accessLogFile: '/dev/stdout',
      accessLogEncoding: 'JSON',
    });
    assert.deepEqual(iop.spec.egressGateways, [
      {
        name: 'istio-egressgateway',
        namespace: 'istio-system',
        enabled: true,
        labels: { istio: 'egressgateway', app: 'istio-egressgateway' },
        ports: [
          { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
        ],
        replicas: 1,
      },
    ]);
  });

  it('merges egress gateway labels over the defaults and reads explicit ports', () => {
    const { resources } = parseYaml(
      `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: x, namespace: istio-system}
spec:
  components:
    egressGateways:
    - name: egw-a
      namespace: istio-egress
      label: {istio: egw-a}
      k8s:
        replicaCount: 3
        resources: {requests: {cpu: 10m}}
        service:
          ports:
          - {name: http, port: 8000, targetPort: 18000}
`,
      'iop.yaml',
    );
    const [g] = only(resources, 'IstioOperator').spec.egressGateways;
    assert.deepEqual(g, {
      name: 'egw-a',
      namespace: 'istio-egress',
      enabled: true,
      labels: { istio: 'egw-a', app: 'istio-egressgateway' },
      ports: [{ name: 'http', port: 8000, targetPort: 18000, protocol: 'TCP' }],
      replicas: 3,
    });
  });

  it('reads meshConfig.pathNormalization, DEFAULT and an empty block meaning BASE', () => {
    const iop = (normalization: string) =>
      `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  meshConfig:\n    pathNormalization: ${normalization}\n`;
    const read = (yaml: string) => only(parseYaml(yaml, 'iop.yaml').resources, 'IstioOperator').spec.meshConfig;
    assert.equal(read(iop('{normalization: MERGE_SLASHES}')).pathNormalization, 'MERGE_SLASHES');
    assert.equal(read(iop('{normalization: DEFAULT}')).pathNormalization, 'BASE');
    assert.equal(read(iop('{}')).pathNormalization, 'BASE');
    const bad = parseYaml(iop('{normalization: MERGE}'), 'iop.yaml').diagnostics;
    assert.ok(bad.some((d) => d.code === 'TG0008' && d.field === 'spec.meshConfig.pathNormalization.normalization'));
  });

  it('reads meshConfig.connectTimeout, and refuses one under a millisecond', () => {
    const iop = (timeout: string) =>
      `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  meshConfig:\n    connectTimeout: ${timeout}\n`;
    const parsed = parseYaml(iop('2.5s'), 'iop.yaml');
    assert.deepEqual(parsed.diagnostics, []);
    assert.equal(only(parsed.resources, 'IstioOperator').spec.meshConfig.connectTimeoutMs, 2_500);
    for (const bad of ['0s', 'soon']) {
      const hit = parseYaml(iop(bad), 'iop.yaml').diagnostics.find((d) => d.field === 'spec.meshConfig.connectTimeout');
      assert.equal(hit?.level, 'error', bad);
      assert.equal(hit?.position?.line, 6, bad);
    }
  });

  it('reads the meshConfig exportTo defaults, and checks them where they are written', () => {
    const iop = (fields: string) =>
      `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  meshConfig:\n${fields}`;
    const parsed = parseYaml(
      iop(
        '    defaultServiceExportTo: ["."]\n    defaultVirtualServiceExportTo: [team-a, team-b]\n    defaultDestinationRuleExportTo: []\n',
      ),
      'iop.yaml',
    );
    assert.deepEqual(parsed.diagnostics, []);
    const mesh = only(parsed.resources, 'IstioOperator').spec.meshConfig;
    assert.deepEqual(mesh.defaultServiceExportTo, ['.']);
    assert.deepEqual(mesh.defaultVirtualServiceExportTo, ['team-a', 'team-b']);
    // An empty list is Istio's unset: every namespace.
    assert.equal(mesh.defaultDestinationRuleExportTo, undefined);
    const bad = parseYaml(iop('    defaultDestinationRuleExportTo: [".", Team_A]\n'), 'iop.yaml').diagnostics;
    const hit = bad.find((d) => d.code === 'TG0105');
    assert.ok(hit, JSON.stringify(bad));
    assert.equal(hit.field, 'spec.meshConfig.defaultDestinationRuleExportTo[1]');
    assert.equal(hit.position?.line, 6);
  });

  it("takes an autoscaler's minimum over the replica count (an idle autoscaler holds its minimum)", () => {
    const gateways = (k8s: string): number[] =>
      only(
        parseYaml(
          `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: x, namespace: istio-system}
spec:
  components:
    egressGateways:
    - name: istio-egressgateway
      k8s: ${k8s}
`,
          'iop.yaml',
        ).resources,
        'IstioOperator',
      ).spec.egressGateways.map((g) => g.replicas);
    assert.deepEqual(gateways('{replicaCount: 2}'), [2]);
    assert.deepEqual(gateways('{replicaCount: 1, hpaSpec: {minReplicas: 2, maxReplicas: 5}}'), [2]);
    assert.deepEqual(gateways('{hpaSpec: {maxReplicas: 5}}'), [1]);
    assert.deepEqual(gateways('{}'), [1]);
  });

  it('warns about a misspelled meshConfig field', () => {
    const { diagnostics } = parseYaml(
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x}\nspec:\n  meshConfig:\n    outboundTraficPolicy: {mode: REGISTRY_ONLY}\n',
      'iop.yaml',
    );
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]?.code, 'TG0004');
    assert.match(diagnostics[0]!.message, /did you mean `outboundTrafficPolicy`/);
    assert.equal(diagnostics[0]?.position?.line, 6);
  });

  it('normalizes an ASM IstioGateway into a gateway declaration', () => {
    const { resources, diagnostics } = parseYaml(
      `apiVersion: istio.alibabacloud.com/v1beta1
kind: IstioGateway
metadata: {name: egressgateway-a, namespace: istio-system}
spec:
  gatewayType: egress
  replicaCount: 2
  serviceType: ClusterIP
  podLabels: {security: strict}
  ports:
  - {name: http-0, port: 80, targetPort: 80, protocol: HTTP}
`,
      'asm.yaml',
    );
    assert.deepEqual(diagnostics, []);
    const g = only(resources, 'IstioGateway');
    assert.equal(g.spec.gatewayType, 'egress');
    assert.deepEqual(g.spec.gateway, {
      name: 'egressgateway-a',
      namespace: 'istio-system',
      enabled: true,
      labels: { istio: 'egressgateway-a', app: 'egressgateway-a', security: 'strict' },
      ports: [{ name: 'http-0', port: 80, targetPort: 80, protocol: 'HTTP' }],
      replicas: 2,
    });
  });

  it('reads the sleep ServiceAccount, Service and Deployment, ignoring unmodelled Kubernetes fields', () => {
    const { resources, diagnostics } = parseYaml(SLEEP_YAML, 'sleep.yaml');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(only(resources, 'ServiceAccount').spec, {});
    const svc = only(resources, 'Service');
    assert.deepEqual(svc.spec, {
      selector: { app: 'sleep' },
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
    });
    assert.deepEqual(svc.meta.labels, { app: 'sleep', service: 'sleep' });
    const dep = only(resources, 'Deployment');
    assert.deepEqual(dep.spec, {
      replicas: 1,
      selector: { app: 'sleep' },
      podLabels: { app: 'sleep' },
      serviceAccountName: 'sleep',
      containers: [{ name: 'sleep', image: 'curlimages/curl', ports: [] }],
    });
  });

  it('defaults Deployment replicas and service account, and Service targetPort names', () => {
    const { resources } = parseYaml(
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      containers:
      - name: web
        ports: [{containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http, protocol: TCP}]
`,
      'web.yaml',
    );
    const dep = only(resources, 'Deployment');
    assert.equal(dep.spec.replicas, 1);
    assert.equal(dep.spec.serviceAccountName, 'default');
    assert.deepEqual(dep.spec.containers[0]?.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.equal(only(resources, 'Service').spec.ports[0]?.targetPort, 'http');
  });
});

describe('parseYaml: normalization', () => {
  const vsYaml = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [Reviews, API.Example.com]
  http:
  - match:
    - uri: {prefix: /v1}
      headers: {x-user: {exact: jason}}
      gateways: [./gw-a, other/gw-b, gw-c, mesh]
    redirect: {uri: /v2}
  - route:
    - destination: {host: ratings, subset: v1}
      weight: 80
    - destination: {host: ratings.other.svc.cluster.local}
      weight: 20
    retries: {attempts: 3, perTryTimeout: 100ms, retryOn: "5xx,connect-failure"}
    fault: {delay: {fixedDelay: 1m, percentage: {value: 10}}}
`;
  const { resources, diagnostics } = parseYaml(vsYaml, 'vs.yaml');
  const vs = only(resources, 'VirtualService');

  it('lower-cases hosts and qualifies short names with the namespace', () => {
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(vs.spec.hosts, ['reviews.bookinfo.svc.cluster.local', 'api.example.com']);
    assert.equal(vs.spec.http[1]?.route[0]?.destination.host, 'ratings.bookinfo.svc.cluster.local');
    assert.equal(vs.spec.http[1]?.route[1]?.destination.host, 'ratings.other.svc.cluster.local');
  });

  it('defaults gateways to mesh and normalizes match gateways', () => {
    assert.deepEqual(vs.spec.gateways, ['mesh']);
    assert.deepEqual(vs.spec.http[0]?.match[0]?.gateways, ['bookinfo/gw-a', 'other/gw-b', 'bookinfo/gw-c', 'mesh']);
    assert.deepEqual(vs.spec.http[1]?.match, []);
  });

  it('turns string matches into {kind, value}, defaults redirect code, converts durations', () => {
    assert.deepEqual(vs.spec.http[0]?.match[0]?.uri, { kind: 'prefix', value: '/v1' });
    assert.deepEqual(vs.spec.http[0]?.match[0]?.headers, { 'x-user': { kind: 'exact', value: 'jason' } });
    assert.equal(vs.spec.http[0]?.redirect?.redirectCode, 301);
    assert.deepEqual(vs.spec.http[1]?.retries, { attempts: 3, perTryTimeoutMs: 100, retryOn: '5xx,connect-failure' });
    assert.deepEqual(vs.spec.http[1]?.fault?.delay, { fixedDelayMs: 60_000, percentage: 10 });
  });

  it('qualifies a short DestinationRule host and defaults Gateway `tls: {}` to PASSTHROUGH', () => {
    const { resources: rs } = parseYaml(
      `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: r, namespace: prod}
spec:
  host: Reviews
  trafficPolicy: {connectionPool: {tcp: {connectTimeout: 250ms, maxConnections: 10}}}
---
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: tls}
    hosts: ["*.wikipedia.org"]
    tls: {}
`,
      'x.yaml',
    );
    const dr = only(rs, 'DestinationRule');
    assert.equal(dr.spec.host, 'reviews.prod.svc.cluster.local');
    assert.deepEqual(dr.spec.trafficPolicy?.connectionPool?.tcp, { maxConnections: 10, connectTimeoutMs: 250 });
    assert.equal(only(rs, 'Gateway').spec.servers[0]?.tls?.mode, 'PASSTHROUGH');
  });

  it('reads a Sidecar with egress hosts and an outbound policy', () => {
    const { resources: rs, diagnostics: ds } = parseYaml(
      `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: team-a}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
  egress:
  - hosts: ["./*", "istio-system/*"]
`,
      's.yaml',
    );
    assert.deepEqual(ds, []);
    const sc = only(rs, 'Sidecar');
    assert.deepEqual(sc.spec.egress, [{ hosts: ['./*', 'istio-system/*'] }]);
    assert.deepEqual(sc.spec.outboundTrafficPolicy, { mode: 'REGISTRY_ONLY' });
  });
});

describe('parseYaml: diagnostics', () => {
  it('warns about an unknown field with a suggestion and the exact line:col, and keeps the resource', () => {
    const { resources, diagnostics } = parseYaml(
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: [a.example.com]\n  resolutoin: DNS\n  ports: [{number: 80, name: http, protocol: HTTP}]\n',
      'se.yaml',
    );
    assert.equal(resources.length, 1);
    assert.equal(diagnostics.length, 1);
    const d = diagnostics[0]!;
    assert.equal(d.code, 'TG0004');
    assert.equal(d.level, 'warning');
    assert.equal(d.field, 'spec.resolutoin');
    assert.match(d.message, /unknown field `resolutoin`, did you mean `resolution`\?/);
    assert.deepEqual(d.position, { file: 'se.yaml', line: 6, col: 3 });
    assert.deepEqual(d.resource, { kind: 'ServiceEntry', namespace: 'default', name: 'a' });
  });

  it('does not warn about unknown fields on Kubernetes objects', () => {
    const { diagnostics } = parseYaml(
      'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: ClusterIP\n  sessionAffinity: None\n  ports: [{port: 80}]\n',
      'a.yaml',
    );
    assert.deepEqual(diagnostics, []);
  });

  it('reports malformed YAML with its line and still reads the other documents', () => {
    const text =
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: [broken\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: also-ok}\n';
    const { resources, diagnostics } = parseYaml(text, 'bad.yaml');
    assert.deepEqual(
      resources.map((r) => r.meta.name),
      ['ok', 'also-ok'],
    );
    assert.ok(diagnostics.length >= 1);
    const d = diagnostics[0]!;
    assert.equal(d.code, 'TG0001');
    assert.equal(d.level, 'error');
    assert.equal(d.position?.file, 'bad.yaml');
    assert.ok(d.position!.line >= 7 && d.position!.line <= 8, `line ${d.position?.line}`);
  });

  it('skips empty documents and bare separators', () => {
    const { resources, diagnostics } = parseYaml(
      '---\n\n---\n# only a comment\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\n',
      'e.yaml',
    );
    assert.deepEqual(diagnostics, []);
    assert.equal(resources.length, 1);
  });

  it('warns about an unknown kind with the file and line, suggesting a close kind', () => {
    const { resources, diagnostics } = parseYaml(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntri\nmetadata: {name: b}\n',
      'k.yaml',
    );
    assert.equal(resources.length, 0);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.level, d.position?.line]),
      [
        ['TG0002', 'warning', 2],
        ['TG0002', 'warning', 6],
      ],
    );
    assert.match(diagnostics[0]!.message, /ConfigMap/);
    assert.equal(diagnostics[1]?.hint, 'did you mean `ServiceEntry`?');
  });

  it('treats a known kind with an unknown apiVersion as an error', () => {
    const { resources, diagnostics } = parseYaml(
      'apiVersion: networking.istio.io/v2\nkind: Gateway\nmetadata: {name: a}\nspec: {servers: []}\n',
      'v.yaml',
    );
    assert.equal(resources.length, 0);
    assert.equal(diagnostics[0]?.code, 'TG0003');
    assert.equal(diagnostics[0]?.level, 'error');
    assert.deepEqual(diagnostics[0]?.position, { file: 'v.yaml', line: 1, col: 13 });
    assert.deepEqual(
      diagnostics[0]?.resource,
      { kind: 'Gateway', namespace: 'default', name: 'a' },
      'names the resource',
    );
  });

  it('requires metadata.name, and reports wrong types and missing fields as errors', () => {
    const { resources, diagnostics } = parseYaml(
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {namespace: x}\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\nspec:\n  hosts: a.example.com\n  ports: [{name: http}]\n',
      'm.yaml',
    );
    assert.equal(resources.length, 0);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.field]),
      [
        ['TG0006', 'metadata.name'],
        ['TG0005', 'spec.hosts'],
        ['TG0006', 'spec.ports[0].number'],
      ],
    );
    assert.match(diagnostics[1]!.message, /expected a list, got the string "a.example.com"/);
  });

  it('reports invalid enum values and durations at their line', () => {
    const { diagnostics } = parseYaml(
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n  hosts: [a.example.com]\n  http:\n  - route: [{destination: {host: a.example.com}}]\n    timeout: 3 seconds\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\nspec:\n  hosts: [a.example.com]\n  resolution: DSN\n',
      'd.yaml',
    );
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.position?.line]),
      [
        ['TG0007', 8],
        ['TG0008', 15],
      ],
    );
    assert.match(diagnostics[0]!.message, /invalid duration "3 seconds"/);
    assert.equal(diagnostics[1]?.hint, 'did you mean `DNS`?');
  });

  it('expands a List', () => {
    const { resources } = parseYaml(
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: b, namespace: n}\n',
      'l.yaml',
    );
    assert.deepEqual(
      resources.map((r) => `${r.meta.namespace}/${r.meta.name}`),
      ['default/a', 'n/b'],
    );
    assert.equal(resources[1]?.source.line, 7);
    assert.ok(resources[1]?.text.startsWith('apiVersion: v1\n  kind: ServiceAccount'));
  });

  it('excludes an invalid resource and keeps the valid ones in the same file', () => {
    const { resources, diagnostics } = parseYaml(
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: good}
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bad}
spec:
  hosts: ["*.example.com"]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sleep}
`,
      'mix.yaml',
    );
    assert.deepEqual(
      resources.map((r) => r.meta.name),
      ['good', 'sleep'],
    );
    const err = diagnostics.find((d) => d.level === 'error');
    assert.equal(err?.code, 'TG0113');
    assert.equal(err?.resource?.name, 'bad');
    assert.equal(err?.position?.line, 13);
    assert.match(err!.message, /hosts must be FQDN if no endpoints are provided/);
  });
});

describe('parseYaml: every problem of a resource at once', () => {
  const codes = (text: string): string[] =>
    parseYaml(text, 'x.yaml').diagnostics.map((d) => `${d.code} ${d.field ?? ''}`.trim());

  it('rules still check a resource whose schema has errors: a bad value and a missing host together', () => {
    const se = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se}
spec:
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNSS
`;
    assert.deepEqual(codes(se), ['TG0008 spec.resolution', 'TG0110 spec.hosts']);
    assert.deepEqual(parseYaml(se, 'x.yaml').resources, [], 'the resource is still rejected');
  });

  it('a rule about a field that already has an error is not repeated', () => {
    const se = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se}
spec:
  hosts: [42]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNSS
`;
    const found = codes(se);
    assert.ok(found.includes('TG0008 spec.resolution'), found.join(', '));
    assert.ok(!found.some((c) => c.startsWith('TG0110')), `no "needs a host" on top of the bad host: ${found}`);
  });

  it('a missing required field of the spec leaves the rules out (nothing sound to check)', () => {
    const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr}
spec:
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBINN}}
`;
    assert.deepEqual(codes(dr), ['TG0006 spec.host', 'TG0008 spec.trafficPolicy.loadBalancer.simple']);
  });

  it('a file with no resources gets a warning; a file with resources does not', () => {
    for (const text of ['', '# only a comment\n', '---\n---\n']) {
      const r = parseYaml(text, 'empty.yaml');
      assert.deepEqual(
        r.diagnostics.map((d) => [d.code, d.level, d.position?.line]),
        [['TG0015', 'warning', 1]],
      );
    }
    assert.deepEqual(parseYaml(SLEEP_YAML, 'sleep.yaml').diagnostics, []);
  });
});
