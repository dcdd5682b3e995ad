import type {
  Destination,
  HTTPMatchRequest,
  HTTPRoute,
  HeaderOperations,
  Headers,
  L4MatchAttributes,
  StringMatch,
  VirtualServiceSpec,
} from '../../model/index.js';
import { childPath } from '../decode-context.js';
import {
  anything,
  array,
  bool,
  duration,
  enumOf,
  int,
  map,
  object,
  oneOf,
  optional,
  string,
  type Infer,
} from '../schema.js';
import {
  compact,
  defineKind,
  destination,
  labels,
  normalizeGatewayRef,
  optionalArray,
  percent,
  qualifyHost,
  stringMatch,
  toStringMatch,
  type ExtStringMatch,
} from './common.js';

const headerOperations = object({
  set: optional(map(string())),
  add: optional(map(string())),
  remove: optionalArray(string()),
});

const headers = object({ request: optional(headerOperations), response: optional(headerOperations) });

const httpMatch = object({
  name: optional(string()),
  uri: optional(stringMatch()),
  scheme: optional(stringMatch()),
  method: optional(stringMatch()),
  authority: optional(stringMatch()),
  headers: optional(map(stringMatch())),
  port: optional(int()),
  sourceLabels: optional(labels()),
  gateways: optionalArray(string()),
  queryParams: optional(map(stringMatch())),
  ignoreUriCase: optional(bool()),
  withoutHeaders: optional(map(stringMatch())),
  sourceNamespace: optional(string()),
  statPrefix: optional(string()),
});

const httpRouteDestination = object({
  destination: destination(),
  weight: optional(int()),
  headers: optional(headers),
});

const routeDestination = object({ destination: destination(), weight: optional(int()) });

const httpRoute = object({
  name: optional(string()),
  match: optional(array(httpMatch)),
  route: optional(array(httpRouteDestination)),
  redirect: optional(
    object({
      uri: optional(string()),
      authority: optional(string()),
      port: optional(int()),
      derivePort: optional(enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'])),
      scheme: optional(string()),
      redirectCode: optional(int()),
    }),
  ),
  directResponse: optional(object({ status: int(), body: optional(oneOf({ string: string(), bytes: string() })) })),
  delegate: optional(object({ name: string(), namespace: optional(string()) })),
  rewrite: optional(
    object({
      uri: optional(string()),
      authority: optional(string()),
      uriRegexRewrite: optional(object({ match: optional(string()), rewrite: optional(string()) })),
    }),
  ),
  timeout: optional(duration()),
  retries: optional(
    object({
      attempts: optional(int()),
      perTryTimeout: optional(duration()),
      retryOn: optional(string()),
      retryRemoteLocalities: optional(bool()),
      retryIgnorePreviousHosts: optional(bool()),
      backoff: optional(duration()),
    }),
  ),
  fault: optional(
    object({
      delay: optional(
        object({
          fixedDelay: optional(duration()),
          exponentialDelay: optional(duration()),
          percentage: optional(percent()),
          percent: optional(int()),
        }),
      ),
      abort: optional(
        object({
          httpStatus: optional(int()),
          grpcStatus: optional(string()),
          http2Error: optional(string()),
          percentage: optional(percent()),
        }),
      ),
    }),
  ),
  mirror: optional(destination()),
  mirrors: optional(anything()),
  mirrorPercentage: optional(percent()),
  mirrorPercent: optional(int()),
  corsPolicy: optional(anything()),
  headers: optional(headers),
});

const l4MatchFields = {
  destinationSubnets: optionalArray(string()),
  port: optional(int()),
  sourceLabels: optional(labels()),
  gateways: optionalArray(string()),
  sourceNamespace: optional(string()),
};

const tlsRoute = object({
  match: optional(array(object({ ...l4MatchFields, sniHosts: optionalArray(string()) }))),
  route: optional(array(routeDestination)),
});

const tcpRoute = object({
  match: optional(array(object({ ...l4MatchFields, sourceSubnet: optional(string()) }))),
  route: optional(array(routeDestination)),
});

export const virtualServiceSpec = object({
  hosts: optionalArray(string()),
  gateways: optionalArray(string()),
  http: optional(array(httpRoute)),
  tls: optional(array(tlsRoute)),
  tcp: optional(array(tcpRoute)),
  exportTo: optionalArray(string()),
});

export type ExtVirtualService = Infer<typeof virtualServiceSpec>;
type ExtHttpMatch = Infer<typeof httpMatch>;
type ExtHeaders = Infer<typeof headers>;
type ExtDestination = Infer<ReturnType<typeof destination>>;
type ExtHttpRoute = Infer<typeof httpRoute>;

function matchMap(
  m: Readonly<Record<string, ExtStringMatch>> | undefined,
  lower: boolean,
): Record<string, StringMatch> {
  const out: Record<string, StringMatch> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[lower ? k.toLowerCase() : k] = toStringMatch(v);
  return out;
}

function headerOps(o: Infer<typeof headerOperations> | undefined): HeaderOperations | undefined {
  if (!o) return undefined;
  return { set: o.set ?? {}, add: o.add ?? {}, remove: o.remove ?? [] };
}

function normalizeHeaders(h: ExtHeaders | undefined): Headers | undefined {
  if (!h) return undefined;
  return compact({ request: headerOps(h.request), response: headerOps(h.response) });
}

function percentage(p: { value: number } | undefined, legacy: number | undefined, dflt: number): number {
  return p?.value ?? legacy ?? dflt;
}

export const virtualServiceCodec = defineKind({
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  strict: true,
  spec: virtualServiceSpec,
  specRequired: true,
  normalize(ext, meta, ctx): VirtualServiceSpec {
    const ns = meta.namespace;
    const e = ext ?? {};
    const gw = (list: readonly string[] | undefined) => (list ?? []).map((g) => normalizeGatewayRef(g, ns));
    const dest = (d: ExtDestination): Destination =>
      compact({ host: qualifyHost(d.host, ns), subset: d.subset, port: d.port?.number });

    const match = (m: ExtHttpMatch, path: string): HTTPMatchRequest => {
      for (const [field, record] of [
        ['headers', m.headers],
        ['withoutHeaders', m.withoutHeaders],
      ] as const) {
        for (const key of Object.keys(record ?? {})) {
          if (key !== key.toLowerCase()) {
            ctx.report(
              'HeaderNameNotLowercase',
              null,
              childPath(childPath(path, field), key),
              `header match key \`${key}\` is not lower-case; it is matched as \`${key.toLowerCase()}\``,
              'write header names in lower case, as Istio requires',
            );
          }
        }
      }
      return compact({
        name: m.name,
        uri: m.uri && toStringMatch(m.uri),
        scheme: m.scheme && toStringMatch(m.scheme),
        method: m.method && toStringMatch(m.method),
        authority: m.authority && toStringMatch(m.authority),
        headers: matchMap(m.headers, true),
        withoutHeaders: matchMap(m.withoutHeaders, true),
        queryParams: matchMap(m.queryParams, false),
        ignoreUriCase: m.ignoreUriCase ?? false,
        port: m.port,
        gateways: gw(m.gateways),
        sourceLabels: m.sourceLabels ?? {},
        sourceNamespace: m.sourceNamespace,
      });
    };

    const http = (r: ExtHttpRoute, i: number): HTTPRoute => {
      const routes = r.route ?? [];
      return compact({
        name: r.name,
        match: (r.match ?? []).map((m, j) => match(m, `spec.http[${i}].match[${j}]`)),
        // A lone destination without a weight takes all the traffic; otherwise an unset weight is 0 (proto3).
        route: routes.map((d) =>
          compact({
            destination: dest(d.destination),
            weight: d.weight ?? (routes.length === 1 ? 100 : 0),
            headers: normalizeHeaders(d.headers),
          }),
        ),
        redirect: r.redirect
          ? compact({
              uri: r.redirect.uri,
              authority: r.redirect.authority,
              port: r.redirect.port,
              derivePort: r.redirect.derivePort,
              scheme: r.redirect.scheme,
              redirectCode: r.redirect.redirectCode ?? 301,
            })
          : undefined,
        directResponse: r.directResponse
          ? compact({
              status: r.directResponse.status,
              body: r.directResponse.body
                ? 'string' in r.directResponse.body
                  ? r.directResponse.body.string
                  : Buffer.from(r.directResponse.body.bytes, 'base64').toString('utf8')
                : undefined,
            })
          : undefined,
        delegate: r.delegate ? { name: r.delegate.name, namespace: r.delegate.namespace ?? ns } : undefined,
        rewrite: r.rewrite
          ? compact({
              uri: r.rewrite.uri,
              authority: r.rewrite.authority,
              uriRegexRewrite: r.rewrite.uriRegexRewrite
                ? { match: r.rewrite.uriRegexRewrite.match ?? '', rewrite: r.rewrite.uriRegexRewrite.rewrite ?? '' }
                : undefined,
            })
          : undefined,
        timeoutMs: r.timeout,
        retries: r.retries
          ? compact({
              attempts: r.retries.attempts ?? 0,
              perTryTimeoutMs: r.retries.perTryTimeout,
              retryOn: r.retries.retryOn,
              retryRemoteLocalities: r.retries.retryRemoteLocalities,
            })
          : undefined,
        fault: r.fault
          ? compact({
              delay: r.fault.delay
                ? {
                    fixedDelayMs: r.fault.delay.fixedDelay ?? r.fault.delay.exponentialDelay ?? 0,
                    percentage: percentage(r.fault.delay.percentage, r.fault.delay.percent, 100),
                  }
                : undefined,
              abort: r.fault.abort
                ? {
                    httpStatus: r.fault.abort.httpStatus ?? 0,
                    percentage: percentage(r.fault.abort.percentage, undefined, 100),
                  }
                : undefined,
            })
          : undefined,
        mirror: r.mirror ? dest(r.mirror) : undefined,
        mirrorPercentage: r.mirror ? percentage(r.mirrorPercentage, r.mirrorPercent, 100) : undefined,
        headers: normalizeHeaders(r.headers),
      });
    };

    const l4 = (m: {
      destinationSubnets?: string[];
      port?: number;
      sourceLabels?: Record<string, string>;
      gateways?: string[];
      sourceNamespace?: string;
    }): L4MatchAttributes =>
      compact({
        destinationSubnets: m.destinationSubnets ?? [],
        port: m.port,
        sourceLabels: m.sourceLabels ?? {},
        gateways: gw(m.gateways),
        sourceNamespace: m.sourceNamespace,
      });
    const l4Route = (d: { destination: ExtDestination; weight?: number }, n: number) => ({
      destination: dest(d.destination),
      weight: d.weight ?? (n === 1 ? 100 : 0),
    });

    (e.gateways ?? []).forEach((g, i) => {
      if (!g.includes('/') && g.includes('.')) {
        const [name, gwNs] = g.split('.');
        ctx.report(
          'LegacyGatewayName',
          null,
          `spec.gateways[${i}]`,
          `using legacy gateway name format "${g}"`,
          `prefer the <namespace>/<name> format: "${gwNs}/${name}"`,
        );
      }
    });

    return {
      hosts: (e.hosts ?? []).map((h) => qualifyHost(h, ns)),
      gateways: e.gateways && e.gateways.length > 0 ? gw(e.gateways) : ['mesh'],
      http: (e.http ?? []).map(http),
      tls: (e.tls ?? []).map((t) => ({
        match: (t.match ?? []).map((m) => ({ ...l4(m), sniHosts: (m.sniHosts ?? []).map((h) => h.toLowerCase()) })),
        route: (t.route ?? []).map((d, _, all) => l4Route(d, all.length)),
      })),
      tcp: (e.tcp ?? []).map((t) => ({
        match: (t.match ?? []).map(l4),
        route: (t.route ?? []).map((d, _, all) => l4Route(d, all.length)),
      })),
      exportTo: e.exportTo ?? [],
    };
  },
});
