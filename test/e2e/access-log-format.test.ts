// meshConfig.accessLogFormat with real processes: `tollgate up`, real curl through the sleep workload's sidecar, a
// Node site on loopback, and the lines read back with `tollgate logs`. A format change is one apply; a format the
// proxies cannot write is refused where it is written, and the one in force stays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { documents, SLEEP_DEPLOYMENT } from '../helpers/fixtures.js';
import {
  eventually,
  run,
  sleepSidecar,
  startRedirectSite,
  startUp,
  tempDir,
  tollgate,
  type UpProcess,
} from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const SITE_IP = `127.${octet()}.${octet()}.10`;

const mesh = (encoding: string, format: string): string => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    accessLogEncoding: ${encoding}
    accessLogFormat: ${JSON.stringify(format)}
`;

describe('meshConfig.accessLogFormat, end to end', () => {
  let site: Awaited<ReturnType<typeof startRedirectSite>>;
  let up: UpProcess;
  let dir: string;
  let url: string;

  /** One request as the workload, with a header the format reads; then the sidecar's line for its request id. */
  const request = async (id: string): Promise<string> => {
    const proxy = await sleepSidecar(up);
    const r = await run(
      'curl',
      ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'x-tenant: blue', '-H', `x-request-id: ${id}`, url],
      { http_proxy: proxy },
    );
    assert.equal(r.stdout, '301');
    return eventually(
      async () => {
        const logs = await tollgate(['logs', 'sleep', '--tail', '20'], up);
        return logs.stdout.split('\n').find((l) => l.includes(id));
      },
      5_000,
      `the line of ${id}`,
    );
  };
  const apply = async (name: string, yaml: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, yaml);
    return tollgate(['apply', '--wait', '-f', file], up);
  };

  before(async () => {
    site = await startRedirectSite(SITE_IP, 0);
    url = `http://site.test:${site.port}/moved?from=here`;
    dir = tempDir('log-format');
    const config = path.join(dir, 'mesh');
    fs.mkdirSync(config);
    fs.writeFileSync(
      path.join(config, 'mesh.yaml'),
      documents(
        SLEEP_DEPLOYMENT,
        mesh(
          'TEXT',
          'tenant=%REQ(X-TENANT)% %REQ(:METHOD)% %REQ_WITHOUT_QUERY(:PATH)% %RESPONSE_CODE% %RESP(LOCATION)% %UPSTREAM_CLUSTER% id=%REQ(X-REQUEST-ID)%\n',
        ),
        `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: site}
spec:
  hosts: [site.test]
  ports: [{number: ${site.port}, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: ${SITE_IP}}]
`,
      ),
    );
    up = await startUp(['--config-dir', config, '--pod-cidr', `127.${octet()}.${octet()}.0/24`]);
    await eventually(async () => ((await tollgate(['status'], up)).code === 0 ? true : undefined), 15_000, 'sync');
  });

  after(async () => {
    await up?.stop();
    await site?.close();
  });

  it('a TEXT format with request and response headers', async () => {
    assert.equal(
      await request('text-1'),
      `tenant=blue GET /moved 301 https://site.test/ outbound|${site.port}||site.test id=text-1`,
    );
  });

  it('a JSON format takes effect with one apply; numbers stay numbers', async () => {
    const r = await apply(
      'json.yaml',
      mesh('JSON', JSON.stringify({ tenant: '%REQ(X-TENANT)%', code: '%RESPONSE_CODE%', id: '%REQ(X-REQUEST-ID)%' })),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(await request('json-1')), { tenant: 'blue', code: 301, id: 'json-1' });
  });

  it('a format the proxies cannot write is refused with its place, and the one in force stays', async () => {
    const r = await apply('bad.yaml', mesh('JSON', '{"tenant": "%REQ(X-TENANT)%", "peer": "%NOPE%"}'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml:7:\d+: error TG1018 .*accessLogFormat.*%NOPE%: no such command/);
    assert.deepEqual(JSON.parse(await request('json-2')), { tenant: 'blue', code: 301, id: 'json-2' });
  });
});
