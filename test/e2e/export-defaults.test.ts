// meshConfig's exportTo defaults with real processes: `tollgate up`, real curl through the sleep workload's sidecar,
// a Node site on loopback. A platform team that keeps ServiceEntries namespace-local by default
// (defaultServiceExportTo: ["."]) must see an entry in another namespace stay closed under REGISTRY_ONLY, as in
// Istio, and see it open once the entry, or the mesh, says otherwise.
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

const mesh = (exportTo: string): string => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    outboundTrafficPolicy: {mode: REGISTRY_ONLY}
    defaultServiceExportTo: ${exportTo}
`;

/** The site registered in `namespace`, exported as the mesh's default says unless `exportTo` is given. */
const siteEntry = (namespace: string, port: number, exportTo = ''): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: site, namespace: ${namespace}}
spec:
  hosts: [site.test]
  ports: [{number: ${port}, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: ${SITE_IP}}]
${exportTo ? `  exportTo: ${exportTo}\n` : ''}`;

describe('meshConfig exportTo defaults, end to end', () => {
  let site: Awaited<ReturnType<typeof startRedirectSite>>;
  let up: UpProcess;
  let dir: string;
  let url: string;

  const curl = async (): Promise<number> => {
    const proxy = await sleepSidecar(up);
    const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', url], {
      http_proxy: proxy,
    });
    return Number(r.stdout);
  };
  const apply = async (name: string, yaml: string): Promise<void> => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, yaml);
    const r = await tollgate(['apply', '--wait', '-f', file], up);
    assert.equal(r.code, 0, r.stderr);
  };

  before(async () => {
    site = await startRedirectSite(SITE_IP, 0);
    url = `http://site.test:${site.port}/`;
    dir = tempDir('export-defaults');
    const config = path.join(dir, 'mesh');
    fs.mkdirSync(config);
    fs.writeFileSync(
      path.join(config, 'mesh.yaml'),
      documents(SLEEP_DEPLOYMENT, mesh('["."]'), siteEntry('shared', site.port)),
    );
    up = await startUp(['--config-dir', config, '--pod-cidr', `127.${octet()}.${octet()}.0/24`]);
    await eventually(async () => ((await tollgate(['status'], up)).code === 0 ? true : undefined), 15_000, 'sync');
  });

  after(async () => {
    await up?.stop();
    await site?.close();
  });

  it("an entry in another namespace stays closed to the workload under defaultServiceExportTo '.'", async () => {
    assert.equal(await curl(), 502);
    assert.equal(site.requests.length, 0, 'nothing reached the site');
  });

  it('the entry opens when it exports itself, and when the mesh default does', async () => {
    await apply('exported.yaml', siteEntry('shared', site.port, '["*"]'));
    assert.equal(await curl(), 301);
    await apply('exported.yaml', siteEntry('shared', site.port, '["default"]'));
    assert.equal(await curl(), 301);
    await apply('exported.yaml', siteEntry('shared', site.port));
    assert.equal(await curl(), 502);
    await apply('mesh.yaml', mesh('["*"]'));
    assert.equal(await curl(), 301);
    await apply('mesh.yaml', mesh('[default]'));
    assert.equal(await curl(), 301);
    await apply('mesh.yaml', mesh('["~"]'));
    assert.equal(await curl(), 502);
  });

  it('a bad default is refused where it is written, and the one in force stays', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, mesh('["*", "."]'));
    const r = await tollgate(['apply', '-f', file], up);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml:7:\d+: error TG0105 .*spec\.meshConfig\.defaultServiceExportTo/);
    assert.equal(await curl(), 502);
  });
});
