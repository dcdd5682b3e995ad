import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml } from '../ingest/index.js';
import { CODES } from './codes.js';

// Table tests over YAML fixtures: each rule has a failing fixture (the code must appear) and a passing one
// (the code must not appear). Fixtures go through the real ingest pipeline, which calls validateResource.

const se = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se}\nspec:\n${spec}`;
const gw = (spec: string, name = 'gw') =>
  `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: ${name}}\nspec:\n  selector: {istio: egressgateway}\n${spec}`;
const vs = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n${spec}`;
const dr = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr}\nspec:\n${spec}`;
const sc = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: sc, namespace: ns1}\nspec:\n${spec}`;
const dep = (spec: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n${spec}`;

const HTTP80 = '  ports: [{number: 80, name: http, protocol: HTTP}]\n';
const route = (host = 'a.example.com') => `    route: [{destination: {host: ${host}}}]\n`;
const server = (extra = '') =>
  `  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [a.example.com]\n${extra}`;
const deployment = (selector: string, labels: string, containers = '[{name: c}]') =>
  dep(
    `  selector: {matchLabels: ${selector}}\n  template:\n    metadata: {labels: ${labels}}\n    spec: {containers: ${containers}}\n`,
  );

type Case = readonly [name: keyof typeof CODES, fail: string, pass: string];

const CASES: readonly Case[] = [
  // ServiceEntry
  ['ServiceEntryNoHosts', se(HTTP80), se(`  hosts: [a.example.com]\n${HTTP80}`)],
  ['InvalidHostname', se(`  hosts: ["*"]\n${HTTP80}`), se(`  hosts: ["*.example.com"]\n${HTTP80}`)],
  [
    'PartialWildcardHost',
    se(`  hosts: ["*foo.example.com"]\n${HTTP80}`),
    se(`  hosts: ["*.foo.example.com"]\n${HTTP80}`),
  ],
  [
    'EndpointsWithWorkloadSelector',
    se(
      `  hosts: [a.example.com]\n${HTTP80}  resolution: STATIC\n  location: MESH_INTERNAL\n  workloadSelector: {labels: {app: a}}\n  endpoints: [{address: 1.1.1.1}]\n`,
    ),
    se(
      `  hosts: [a.example.com]\n${HTTP80}  resolution: STATIC\n  location: MESH_INTERNAL\n  workloadSelector: {labels: {app: a}}\n`,
    ),
  ],
  [
    'EndpointsWithResolutionNone',
    se(`  hosts: [a.example.com]\n${HTTP80}  endpoints: [{address: 1.1.1.1}]\n`),
    se(`  hosts: [a.example.com]\n${HTTP80}  resolution: STATIC\n  endpoints: [{address: 1.1.1.1}]\n`),
  ],
  [
    'DnsHostNotFqdn',
    se(`  hosts: ["*.example.com"]\n${HTTP80}  resolution: DNS\n`),
    se(`  hosts: ["*.example.com"]\n${HTTP80}  resolution: DNS\n  endpoints: [{address: www.example.com}]\n`),
  ],
  [
    'DnsRoundRobinEndpoints',
    se(
      `  hosts: [a.example.com]\n${HTTP80}  resolution: DNS_ROUND_ROBIN\n  endpoints: [{address: b.example.com}, {address: c.example.com}]\n`,
    ),
    se(`  hosts: [a.example.com]\n${HTTP80}  resolution: DNS_ROUND_ROBIN\n  endpoints: [{address: b.example.com}]\n`),
  ],
  [
    'DuplicatePortNumber',
    se(
      `  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 80, name: http2, protocol: HTTP}]\n`,
    ),
    se(
      `  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: http2, protocol: HTTP}]\n`,
    ),
  ],
  [
    'DuplicatePortName',
    se(
      `  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: http, protocol: HTTP}]\n`,
    ),
    se(
      `  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: http-81, protocol: HTTP}]\n`,
    ),
  ],
  [
    'InvalidPortNumber',
    se(`  hosts: [a.example.com]\n  ports: [{number: 70000, name: http, protocol: HTTP}]\n`),
    se(`  hosts: [a.example.com]\n${HTTP80}`),
  ],
  [
    'InvalidPortName',
    se(`  hosts: [a.example.com]\n  ports: [{number: 80, name: HTTP_80, protocol: HTTP}]\n`),
    se(`  hosts: [a.example.com]\n${HTTP80}`),
  ],
  [
    'EndpointPortNotDeclared',
    se(
      `  hosts: [a.example.com]\n${HTTP80}  resolution: STATIC\n  endpoints: [{address: 1.1.1.1, ports: {https: 8443}}]\n`,
    ),
    se(
      `  hosts: [a.example.com]\n${HTTP80}  resolution: STATIC\n  endpoints: [{address: 1.1.1.1, ports: {http: 8080}}]\n`,
    ),
  ],
  [
    'CidrRequiresNoneOrStatic',
    se(`  hosts: [a.example.com]\n  addresses: [10.0.0.0/8]\n${HTTP80}  resolution: DNS\n`),
    se(`  hosts: [a.example.com]\n  addresses: [10.0.0.0/8]\n${HTTP80}  resolution: NONE\n`),
  ],
  [
    'InvalidAddress',
    se(`  hosts: [a.example.com]\n  addresses: [10.0.0.0/99]\n${HTTP80}`),
    se(`  hosts: [a.example.com]\n  addresses: [10.0.0.1]\n${HTTP80}`),
  ],
  [
    'InvalidEndpointAddress',
    se(`  hosts: [a.example.com]\n${HTTP80}  resolution: STATIC\n  endpoints: [{address: b.example.com}]\n`),
    se(`  hosts: [a.example.com]\n${HTTP80}  resolution: STATIC\n  endpoints: [{address: "2001:db8::1"}]\n`),
  ],
  [
    'MultipleHostsTcpPort',
    se(
      `  hosts: [a.example.com, b.example.com]\n  addresses: [10.0.0.1]\n  ports: [{number: 5432, name: pg, protocol: TCP}]\n  resolution: DNS\n`,
    ),
    se(
      `  hosts: [a.example.com, b.example.com]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: DNS\n`,
    ),
  ],
  [
    'DynamicDnsRules',
    se(`  hosts: [a.example.com]\n${HTTP80}  resolution: DYNAMIC_DNS\n`),
    se(`  hosts: ["*.example.com"]\n${HTTP80}  resolution: DYNAMIC_DNS\n`),
  ],
  [
    'TargetPortIgnored',
    se(`  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 443}]\n`),
    se(
      `  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 443}]\n  resolution: DNS\n`,
    ),
  ],
  [
    'InvalidExportTo',
    se(`  hosts: [a.example.com]\n${HTTP80}  exportTo: [".", default]\n`),
    se(`  hosts: [a.example.com]\n${HTTP80}  exportTo: [".", istio-system]\n`),
  ],
  [
    'EmptyWorkloadSelector',
    se(
      `  hosts: [a.example.com]\n${HTTP80}  location: MESH_INTERNAL\n  resolution: STATIC\n  workloadSelector: {labels: {}}\n`,
    ),
    se(
      `  hosts: [a.example.com]\n${HTTP80}  location: MESH_INTERNAL\n  resolution: STATIC\n  workloadSelector: {labels: {app: a}}\n`,
    ),
  ],

  // Gateway
  ['GatewayNoServers', gw('  servers: []\n'), gw(server())],
  ['ServerNoHosts', gw('  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n'), gw(server())],
  [
    'ServerTlsRequired',
    gw('  servers:\n  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [a.example.com]\n'),
    gw('  servers:\n  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [a.example.com]\n    tls: {}\n'),
  ],
  [
    'ServerTlsNotAllowed',
    gw(server('    tls: {mode: SIMPLE, credentialName: c}\n')),
    gw(server('    tls: {httpsRedirect: true}\n')),
  ],
  [
    'DuplicateServerPortName',
    gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [a.example.com]\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [b.example.com]\n',
    ),
    gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [a.example.com]\n  - port: {number: 8080, name: http-8080, protocol: HTTP}\n    hosts: [b.example.com]\n',
    ),
  ],
  [
    'InvalidServerTls',
    gw(
      '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: {mode: SIMPLE}\n',
    ),
    gw(
      '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: {mode: SIMPLE, credentialName: a-cert}\n',
    ),
  ],
  [
    'HttpsRedirectOnNonHttp',
    gw(
      '  servers:\n  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [a.example.com]\n    tls: {httpsRedirect: true}\n',
    ),
    gw(server('    tls: {httpsRedirect: true}\n')),
  ],
  [
    'GatewayTargetPort',
    gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n    hosts: [a.example.com]\n',
    ),
    gw(server()),
  ],
  ['InvalidGatewayName', gw(server(), 'egress.gw'), gw(server(), 'egress-gw')],
  [
    'ServerPortNameMissing',
    gw('  servers:\n  - port: {number: 80, protocol: HTTP}\n    hosts: [a.example.com]\n'),
    gw(server()),
  ],
  [
    'ServerProtocolConflict',
    gw(
      '  servers:\n  - port: {number: 443, name: http, protocol: HTTP}\n    hosts: [a.example.com]\n  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [b.example.com]\n    tls: {}\n',
    ),
    gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [a.example.com]\n  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [b.example.com]\n    tls: {}\n',
    ),
  ],
  [
    'ServerTlsCertificatesIgnored',
    gw(
      '  servers:\n  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [a.example.com]\n    tls: {mode: PASSTHROUGH, credentialName: c}\n',
    ),
    gw(
      '  servers:\n  - port: {number: 443, name: tls, protocol: TLS}\n    hosts: [a.example.com]\n    tls: {mode: PASSTHROUGH}\n',
    ),
  ],

  // VirtualService
  [
    'VirtualServiceNoHosts',
    vs(`  http:\n  - ${route().trimStart()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - ${route().trimStart()}`),
  ],
  [
    'DelegateVirtualServiceShape',
    vs(`  gateways: [mesh]\n  http:\n  - ${route().trimStart()}`),
    vs(`  http:\n  - ${route().trimStart()}`),
  ],
  [
    'WildcardHostForMesh',
    vs(`  hosts: ["*"]\n  http:\n  - ${route().trimStart()}`),
    vs(`  hosts: ["*"]\n  gateways: [istio-system/gw]\n  http:\n  - ${route().trimStart()}`),
  ],
  [
    'DuplicateVirtualServiceHosts',
    vs(`  hosts: ["*.example.com", a.example.com]\n  http:\n  - ${route().trimStart()}`),
    vs(`  hosts: [b.example.com, a.example.com]\n  http:\n  - ${route().trimStart()}`),
  ],
  [
    'VirtualServiceNoRoutes',
    vs('  hosts: [a.example.com]\n'),
    vs(`  hosts: [a.example.com]\n  http:\n  - ${route().trimStart()}`),
  ],
  [
    'HttpRouteAction',
    vs(`  hosts: [a.example.com]\n  http:\n  - redirect: {uri: /x}\n${route()}`),
    vs('  hosts: [a.example.com]\n  http:\n  - redirect: {uri: /x}\n'),
  ],
  [
    'RedirectConflict',
    vs('  hosts: [a.example.com]\n  http:\n  - redirect: {uri: /x}\n    rewrite: {uri: /y}\n'),
    vs(`  hosts: [a.example.com]\n  http:\n  - rewrite: {uri: /y}\n${route()}`),
  ],
  [
    'InvalidWeight',
    vs(
      '  hosts: [a.example.com]\n  http:\n  - route: [{destination: {host: a.example.com}}, {destination: {host: b.example.com}}]\n',
    ),
    vs(
      '  hosts: [a.example.com]\n  http:\n  - route: [{destination: {host: a.example.com}, weight: 90}, {destination: {host: b.example.com}, weight: 10}]\n',
    ),
  ],
  [
    'InvalidRegex',
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{uri: {regex: "/(a"}}]\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{uri: {regex: "/(?P<id>[0-9]+)"}}]\n${route()}`),
  ],
  [
    'InvalidHeaderName',
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{headers: {"x user": {exact: a}}}]\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{headers: {x-user: {exact: a}}}]\n${route()}`),
  ],
  [
    'InvalidGatewayReference',
    vs(`  hosts: [a.example.com]\n  gateways: [Bad_NS/gw]\n  http:\n  - ${route().trimStart()}`),
    vs(
      `  hosts: [a.example.com]\n  gateways: [istio-system/istio-egressgateway, mesh]\n  http:\n  - ${route().trimStart()}`,
    ),
  ],
  [
    'LegacyGatewayName',
    vs(`  hosts: [a.example.com]\n  gateways: [istio-egressgateway.istio-system]\n  http:\n  - ${route().trimStart()}`),
    vs(`  hosts: [a.example.com]\n  gateways: [istio-system/istio-egressgateway]\n  http:\n  - ${route().trimStart()}`),
  ],
  [
    'InvalidRedirect',
    vs('  hosts: [a.example.com]\n  http:\n  - redirect: {uri: /x, redirectCode: 200}\n'),
    vs('  hosts: [a.example.com]\n  http:\n  - redirect: {uri: /x, redirectCode: 308}\n'),
  ],
  [
    'InvalidRewrite',
    vs(
      `  hosts: [a.example.com]\n  http:\n  - rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}\n${route()}`,
    ),
    vs(`  hosts: [a.example.com]\n  http:\n  - rewrite: {uriRegexRewrite: {match: "^/a", rewrite: /b}}\n${route()}`),
  ],
  [
    'InvalidRetry',
    vs(`  hosts: [a.example.com]\n  http:\n  - retries: {attempts: 2, retryOn: "5xx,sometimes"}\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - retries: {attempts: 2, retryOn: "5xx,503,connect-failure"}\n${route()}`),
  ],
  [
    'InvalidFault',
    vs(`  hosts: [a.example.com]\n  http:\n  - fault: {abort: {httpStatus: 700}}\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - fault: {abort: {httpStatus: 503, percentage: {value: 5}}}\n${route()}`),
  ],
  [
    'InvalidPercentage',
    vs(
      `  hosts: [a.example.com]\n  http:\n  - mirror: {host: b.example.com}\n    mirrorPercentage: {value: 150}\n${route()}`,
    ),
    vs(
      `  hosts: [a.example.com]\n  http:\n  - mirror: {host: b.example.com}\n    mirrorPercentage: {value: 50}\n${route()}`,
    ),
  ],
  [
    'InvalidTlsRouteMatch',
    vs(
      '  hosts: [a.example.com]\n  tls:\n  - match: [{port: 443, sniHosts: [b.example.com]}]\n    route: [{destination: {host: a.example.com, port: {number: 443}}}]\n',
    ),
    vs(
      '  hosts: [a.example.com]\n  tls:\n  - match: [{port: 443, sniHosts: [a.example.com]}]\n    route: [{destination: {host: a.example.com, port: {number: 443}}}]\n',
    ),
  ],
  [
    'RouteMissing',
    vs('  hosts: [a.example.com]\n  tcp:\n  - match: [{port: 5432}]\n'),
    vs(
      '  hosts: [a.example.com]\n  tcp:\n  - match: [{port: 5432}]\n    route: [{destination: {host: a.example.com}}]\n',
    ),
  ],
  [
    'InvalidDestination',
    vs(`  hosts: [a.example.com]\n  http:\n  - ${route('"*"').trimStart()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - ${route().trimStart()}`),
  ],
  [
    'InvalidDirectResponse',
    vs('  hosts: [a.example.com]\n  http:\n  - directResponse: {status: 99}\n'),
    vs('  hosts: [a.example.com]\n  http:\n  - directResponse: {status: 503, body: {string: unavailable}}\n'),
  ],
  [
    'EmptyStringMatch',
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{uri: {prefix: ""}}]\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{uri: {prefix: /}}]\n${route()}`),
  ],
  [
    'InvalidHeaderOperation',
    vs(`  hosts: [a.example.com]\n  http:\n  - headers: {response: {set: {":status": "200"}}}\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - headers: {response: {set: {x-via: tollgate}}}\n${route()}`),
  ],
  [
    'HeaderValueNotExpanded',
    vs(
      `  hosts: [a.example.com]\n  http:\n  - headers: {request: {set: {x-client: "%DOWNSTREAM_REMOTE_ADDRESS%"}}}\n${route()}`,
    ),
    vs(
      `  hosts: [a.example.com]\n  http:\n  - headers: {request: {set: {x-share: "100%%", x-v: "%%HOSTNAME%%"}}}\n${route()}`,
    ),
  ],
  [
    'InvalidSourceNamespace',
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{sourceNamespace: Bad_NS}]\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{sourceNamespace: team-a}]\n${route()}`),
  ],
  [
    'HeaderNameNotLowercase',
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{headers: {X-User: {exact: a}}}]\n${route()}`),
    vs(`  hosts: [a.example.com]\n  http:\n  - match: [{headers: {x-user: {exact: a}}}]\n${route()}`),
  ],

  // DestinationRule
  [
    'DuplicateSubsetName',
    dr('  host: a.example.com\n  subsets: [{name: v1}, {name: v1}]\n'),
    dr('  host: a.example.com\n  subsets: [{name: v1}, {name: v2}]\n'),
  ],
  [
    'InvalidSubsetName',
    dr('  host: a.example.com\n  subsets: [{labels: {version: v1}}]\n'),
    dr('  host: a.example.com\n  subsets: [{name: v1, labels: {version: v1}}]\n'),
  ],
  [
    'EmptyTrafficPolicy',
    dr('  host: a.example.com\n  trafficPolicy: {}\n'),
    dr('  host: a.example.com\n  trafficPolicy: {tls: {mode: SIMPLE}}\n'),
  ],
  [
    'InvalidClientTls',
    dr('  host: a.example.com\n  trafficPolicy: {tls: {mode: MUTUAL}}\n'),
    dr('  host: a.example.com\n  trafficPolicy: {tls: {mode: MUTUAL, credentialName: client-cert}}\n'),
  ],
  [
    'ClientTlsSettingsIgnored',
    dr(
      '  host: a.example.com\n  trafficPolicy: {tls: {mode: SIMPLE, clientCertificate: /c.pem, privateKey: /k.pem}}\n',
    ),
    dr(
      '  host: a.example.com\n  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}}\n',
    ),
  ],
  [
    'InvalidTrafficPolicyValue',
    dr('  host: a.example.com\n  trafficPolicy: {outlierDetection: {maxEjectionPercent: 120}}\n'),
    dr('  host: a.example.com\n  trafficPolicy: {outlierDetection: {maxEjectionPercent: 50}}\n'),
  ],

  // Sidecar
  [
    'SidecarEmpty',
    sc('  workloadSelector: {labels: {app: a}}\n'),
    sc('  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n'),
  ],
  [
    'SidecarEgressHostFormat',
    sc('  egress: [{hosts: [api.example.com]}]\n'),
    sc('  egress: [{hosts: ["*/api.example.com"]}]\n'),
  ],
  [
    'SidecarEgressNoHosts',
    sc('  egress: [{port: {number: 80, name: http, protocol: HTTP}}]\n'),
    sc('  egress: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["./*"]}]\n'),
  ],
  [
    'SidecarCatchAllEgress',
    sc('  egress:\n  - hosts: ["./*"]\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["./*"]\n'),
    sc('  egress:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["./*"]\n  - hosts: ["./*"]\n'),
  ],
  [
    'SidecarDuplicatePort',
    sc(
      '  egress:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["./*"]\n  - port: {number: 80, name: http2, protocol: HTTP}\n    hosts: ["istio-system/*"]\n',
    ),
    sc(
      '  egress:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["./*"]\n  - port: {number: 81, name: http2, protocol: HTTP}\n    hosts: ["istio-system/*"]\n',
    ),
  ],
  [
    'SidecarDuplicateHost',
    sc('  egress: [{hosts: ["ns1/a.example.com", "./a.example.com"]}]\n'),
    sc('  egress: [{hosts: ["ns1/a.example.com", "./b.example.com"]}]\n'),
  ],

  // Kubernetes and install
  ['SelectorMismatch', deployment('{app: a}', '{app: b}'), deployment('{app: a}', '{app: a, version: v1}')],
  ['NoContainers', deployment('{app: a}', '{app: a}', '[]'), deployment('{app: a}', '{app: a}')],
  [
    'InvalidReplicas',
    dep(
      '  replicas: -1\n  selector: {matchLabels: {app: a}}\n  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c}]}}\n',
    ),
    dep(
      '  replicas: 0\n  selector: {matchLabels: {app: a}}\n  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c}]}}\n',
    ),
  ],
  [
    'InvalidExportTo',
    'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: i}\nspec:\n  meshConfig:\n    defaultServiceExportTo: ["*", "."]\n',
    'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: i}\nspec:\n  meshConfig:\n    defaultServiceExportTo: ["."]\n    defaultVirtualServiceExportTo: ["~"]\n',
  ],
  [
    'DuplicateEgressGateway',
    'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: i}\nspec:\n  components:\n    egressGateways: [{name: a}, {name: a}]\n',
    'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: i}\nspec:\n  components:\n    egressGateways: [{name: a}, {name: b}]\n',
  ],
];

describe('per-resource validation rules', () => {
  for (const [name, fail, pass] of CASES) {
    const code = CODES[name].code;
    it(`${code} ${name}: reported for the failing fixture`, () => {
      const { diagnostics } = parseYaml(fail, 'fail.yaml');
      const hit = diagnostics.find((d) => d.code === code);
      assert.ok(hit, `expected ${code}, got ${JSON.stringify(diagnostics.map((d) => `${d.code} ${d.message}`))}`);
      assert.equal(hit.name, name);
      assert.equal(hit.position?.file, 'fail.yaml');
      assert.ok(hit.resource, 'diagnostic names its resource');
    });
    it(`${code} ${name}: not reported for the passing fixture`, () => {
      const { diagnostics } = parseYaml(pass, 'pass.yaml');
      assert.deepEqual(
        diagnostics.filter((d) => d.code === code).map((d) => d.message),
        [],
      );
      assert.deepEqual(
        diagnostics.filter((d) => d.code === CODES.YamlSyntaxError.code),
        [],
        'the passing fixture parses',
      );
    });
  }

  it('header operations: a name or value that cannot be sent is an error at its own line', () => {
    const yaml = [
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: {name: vs}',
      'spec:',
      '  hosts: [a.example.com]',
      '  http:',
      '  - headers:',
      '      request:',
      '        set:',
      '          x-ok: fine',
      '          x-injected: "a\\r\\nX-Smuggled: b"',
      '        add:',
      '          x-nul: "a\\0b"',
      '          "x bad": v',
      '      response:',
      '        set:',
      '          x-share: "50% off"',
      '        remove: ["", x-gone]',
      '    route: [{destination: {host: a.example.com}}]',
      '',
    ].join('\n');
    const found = parseYaml(yaml, 'vs.yaml')
      .diagnostics.filter((d) => d.code === CODES.InvalidHeaderOperation.code)
      .map((d) => `${d.position?.line} ${d.message}`);
    assert.deepEqual(found, [
      '11 value of header "x-injected" holds a control character ("\\r"): it cannot be sent',
      '13 value of header "x-nul" holds a control character ("\\u0000"): it cannot be sent',
      '14 header name "x bad" is not a token (RFC 9110): it cannot be sent',
      '17 value of header "x-share": a single % is not allowed',
      '18 header name cannot be empty',
    ]);
  });

  it('blocks the resource on error-level findings only', () => {
    const warned = parseYaml(
      se('  hosts: [a.example.com]\n  ports: [{number: 5432, name: pg, protocol: TCP}]\n'),
      'w.yaml',
    );
    assert.equal(warned.resources.length, 1);
    const failed = parseYaml(se(`  hosts: ["*"]\n${HTTP80}`), 'e.yaml');
    assert.equal(failed.resources.length, 0);
  });

  it('points a finding at the offending field line', () => {
    const { diagnostics } = parseYaml(se(`  hosts:\n  - a.example.com\n  - "*"\n${HTTP80}`), 'p.yaml');
    const d = diagnostics.find((x) => x.code === CODES.InvalidHostname.code);
    assert.equal(d?.field, 'spec.hosts[1]');
    assert.deepEqual(d?.position, { file: 'p.yaml', line: 7, col: 5 });
  });

  it('TG0185 names what each client TLS mode ignores, at the first ignored field', () => {
    const ignored = (tls: string) =>
      parseYaml(dr(`  host: a.example.com\n  trafficPolicy:\n    tls: ${tls}\n`), 'c.yaml')
        .diagnostics.filter((d) => d.code === CODES.ClientTlsSettingsIgnored.code)
        .map((d) => [d.level, d.field, d.message]);
    assert.deepEqual(ignored('{mode: ISTIO_MUTUAL, sni: a.example.com, caCertificates: /ca.pem, credentialName: c}'), [
      [
        'warning',
        'spec.trafficPolicy.tls.credentialName',
        'tls mode ISTIO_MUTUAL does not use credentialName, caCertificates: they are ignored',
      ],
    ]);
    assert.deepEqual(ignored('{mode: DISABLE, sni: a.example.com}'), [
      ['warning', 'spec.trafficPolicy.tls.sni', 'tls mode DISABLE does not use sni: it is ignored'],
    ]);
    assert.deepEqual(ignored('{mode: SIMPLE, credentialName: c, sni: a.example.com}'), []);
    assert.deepEqual(ignored('{mode: SIMPLE, caCertificates: /ca.pem, subjectAltNames: [a.example.com]}'), []);
  });

  it('has unique codes in the catalog', () => {
    const codes = Object.values(CODES).map((c) => c.code);
    assert.equal(new Set(codes).size, codes.length);
    for (const c of codes) assert.match(c, /^TG\d{4}$/);
  });
});
