// `tollgate get` as kubectl users read it: per-kind columns, NAMESPACE only with -A, -o wide, -o yaml/json/name,
// and an AGE that survives a restart of `up` (the controller records when it first had each resource).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { EXAMPLES, startUp, tempDir, tollgate, type UpProcess } from '../helpers/processes.js';

const octet = (): number => 2 + Math.floor(Math.random() * 250);
const POD_CIDR = `127.${octet()}.${octet()}.0/24`;
const example = (name: string): string => path.join(EXAMPLES, name);
const header = (stdout: string): string[] =>
  stdout
    .split('\n')[0]!
    .trim()
    .split(/\s{2,}/);
const row = (stdout: string, name: string): string[] =>
  stdout
    .split('\n')
    .find((l) => l.split(/\s+/).includes(name))!
    .trim()
    .split(/\s{2,}/);

describe('tollgate get', () => {
  let up: UpProcess;
  let configDir: string;
  const cli = (...args: string[]) => tollgate(args, up);

  before(async () => {
    configDir = tempDir('get');
    up = await startUp(['--config-dir', configDir, '--pod-cidr', POD_CIDR]);
    const r = await cli(
      'apply',
      '--wait',
      '-f',
      example('sleep.yaml'),
      '-f',
      example('serviceentry.yaml'),
      '-f',
      example('gateway.yaml'),
      '-f',
      example('virtualservice.yaml'),
    );
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await up?.stop();
  });

  test("ServiceEntry: Istio's columns, no NAMESPACE without -A", async () => {
    const r = await cli('get', 'se');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(header(r.stdout), ['NAME', 'HOSTS', 'LOCATION', 'RESOLUTION', 'AGE']);
    const cells = row(r.stdout, 'external-svc-http');
    assert.deepEqual(cells.slice(0, 4), ['external-svc-http', '["aliyun.com"]', 'MESH_EXTERNAL', 'DNS']);
    assert.match(cells[4]!, /^\d+s$/);
  });

  test('-A adds NAMESPACE first', async () => {
    const r = await cli('get', 'virtualservices', '-A');
    assert.deepEqual(header(r.stdout), ['NAMESPACE', 'NAME', 'GATEWAYS', 'HOSTS', 'AGE']);
    assert.deepEqual(row(r.stdout, 'egressgateway-vs').slice(0, 4), [
      'default',
      'egressgateway-vs',
      '["egress-gw","mesh"]',
      '["aliyun.com"]',
    ]);
  });

  test("Deployment and Service: kubectl's columns; -o wide adds kubectl's wide ones and the source", async () => {
    const deploy = await cli('get', 'deploy');
    assert.deepEqual(header(deploy.stdout), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    assert.deepEqual(row(deploy.stdout, 'sleep').slice(0, 4), ['sleep', '1/1', '1', '1']);
    const wide = await cli('get', 'deploy', '-o', 'wide');
    assert.deepEqual(header(wide.stdout), [
      'NAME',
      'READY',
      'UP-TO-DATE',
      'AVAILABLE',
      'AGE',
      'CONTAINERS',
      'IMAGES',
      'SELECTOR',
      'SOURCE',
    ]);
    assert.deepEqual(row(wide.stdout, 'sleep').slice(5, 8), ['sleep', 'curlimages/curl', 'app=sleep']);
    const svc = await cli('get', 'svc');
    assert.deepEqual(header(svc.stdout), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    assert.deepEqual(row(svc.stdout, 'sleep').slice(1, 5), ['ClusterIP', '<none>', '<none>', '80/TCP']);
  });

  test('get all: one table per kind, names qualified by kind', async () => {
    const r = await cli('get', 'all');
    const sections = r.stdout.split('\n\n');
    assert.ok(sections.length >= 6, r.stdout);
    assert.match(r.stdout, /^serviceentry\.networking\.istio\.io\/external-svc-http\s/m);
    assert.match(r.stdout, /^deployment\.apps\/sleep\s+1\/1/m);
  });

  test('-o yaml and -o json carry metadata.namespace and creationTimestamp; -o name prints kind/name', async () => {
    const y = parseYaml((await cli('get', 'gw', 'egress-gw', '-o', 'yaml')).stdout) as {
      metadata: { namespace: string; creationTimestamp: string };
    };
    assert.equal(y.metadata.namespace, 'default');
    assert.match(y.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const list = JSON.parse((await cli('get', 'se', '-o', 'json')).stdout) as {
      kind: string;
      items: { metadata: { namespace: string } }[];
    };
    assert.equal(list.kind, 'List');
    assert.equal(list.items[0]?.metadata.namespace, 'default');
    assert.equal((await cli('get', 'gw', '-o', 'name')).stdout, 'gateway.networking.istio.io/egress-gw\n');
  });

  test('AGE is when the controller first had the resource: a restart keeps it', async () => {
    const stamp = async (): Promise<string> =>
      (
        parseYaml((await cli('get', 'se', 'external-svc-http', '-o', 'yaml')).stdout) as {
          metadata: { creationTimestamp: string };
        }
      ).metadata.creationTimestamp;
    const before = await stamp();
    await up.stop();
    up = await startUp(['--config-dir', configDir, '--pod-cidr', POD_CIDR]);
    assert.equal(await stamp(), before);
  });

  test("no resources: kubectl's sentence, exit 0; an unknown name: exit 1", async () => {
    const none = await cli('get', 'dr');
    assert.equal(none.code, 0);
    assert.equal(none.stderr, 'No resources found in default namespace.\n');
    const missing = await cli('get', 'se', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: ServiceEntry "nope" not found in namespace default$/m);
  });
});
