// `tollgate validate` and `tollgate analyze --offline` through the real CLI: the three output formats, thresholds
// and exit codes, on the shipped examples and mistakes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { EXAMPLES, ROOT, tollgate } from '../helpers/processes.js';

const MISTAKES = path.join(EXAMPLES, '..', 'mistakes');
const example = (name: string): string => path.join(EXAMPLES, name);
/** The YAML files of a corpus case (its expect.yaml left out). */
const corpusCase = (name: string, ...files: string[]): string[] =>
  files.flatMap((f) => ['-f', path.join(ROOT, 'test', 'corpus', name, f)]);
// Offline commands never reach a controller; point them at a port nothing listens on to prove it.
const NOWHERE = 'http://127.0.0.1:9';

interface Finding {
  code: string;
  level: string;
  message: string;
  position: { file: string; line: number; col: number };
  resource: { kind: string; namespace: string; name: string };
  field: string;
  hint: string;
}

describe('tollgate validate / analyze --offline', () => {
  test('the bundled examples are clean', async () => {
    const r = await tollgate(
      ['validate', '-f', EXAMPLES, '-f', path.join(EXAMPLES, '..', 'istio-egress-gateway')],
      NOWHERE,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^No validation issues found when analyzing 9 files\.$/m);
  });

  test('text: file:line:col, level, code, resource, field, message and a hint; exit 1 on an error', async () => {
    const r = await tollgate(
      [
        'validate',
        '-f',
        example('sleep.yaml'),
        '-f',
        example('gateway.yaml'),
        '-f',
        example('virtualservice.yaml'),
        '-f',
        path.join(MISTAKES, 'serviceentry-typo.yaml'),
      ],
      NOWHERE,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /serviceentry-typo\.yaml:15:3: warning TG0004 ServiceEntry default\/external-svc-http spec\.resolutoin: unknown field `resolutoin`, did you mean `resolution`\?\n {4}hint: /,
    );
    assert.match(
      r.stdout,
      /virtualservice\.yaml:\d+:\d+: error TG1002 VirtualService default\/egressgateway-vs spec\.http\[1\]\.route\[0\]\.destination\.host: .*503 UH/,
    );
    assert.match(r.stdout, /4 files: 1 error, 1 warning, 0 infos/);
  });

  test('json and yaml carry the same findings, with positions', async () => {
    const args = [
      'analyze',
      '--offline',
      '-f',
      path.join(EXAMPLES, 'serviceentry.yaml'),
      '-f',
      example('gateway.yaml'),
      '-f',
      path.join(MISTAKES, 'virtualservice-wrong-gateway.yaml'),
    ];
    const json = await tollgate([...args, '-o', 'json'], NOWHERE);
    const yaml = await tollgate([...args, '-o', 'yaml'], NOWHERE);
    assert.equal(json.code, 1);
    assert.equal(yaml.code, 1);
    const fromJson = JSON.parse(json.stdout) as Finding[];
    assert.deepEqual(parseYaml(yaml.stdout), fromJson);
    assert.deepEqual(fromJson.map((d) => d.code).sort(), ['IST0101', 'IST0101', 'TG1001', 'TG1005']);
    const missing = fromJson.find((d) => d.code === 'IST0101')!;
    assert.equal(missing.level, 'error');
    assert.match(missing.position.file, /virtualservice-wrong-gateway\.yaml$/);
    assert.equal(missing.position.line, 11);
    assert.deepEqual(missing.resource, { kind: 'VirtualService', namespace: 'default', name: 'egressgateway-vs' });
    assert.equal(missing.field, 'spec.gateways[0]');
    assert.ok(missing.hint.length > 0);
  });

  test('thresholds: hide infos, and fail on warnings when asked', async () => {
    const files = ['-f', example('serviceentry.yaml'), '-f', example('gateway.yaml')];
    const quiet = await tollgate(['validate', ...files, '--output-threshold', 'error'], NOWHERE);
    assert.equal(quiet.code, 0, 'a warning alone does not fail by default');
    assert.match(quiet.stdout, /No validation issues found/);
    const strict = await tollgate(['validate', ...files, '--failure-threshold', 'warning'], NOWHERE);
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /warning TG1005 Gateway default\/egress-gw/);
  });

  test('HTTPS mistakes: a passthrough server routed by http rules fails; certificate files are checked on this host', async () => {
    const passthrough = await tollgate(
      [
        'validate',
        ...corpusCase(
          'broken-passthrough-with-http-routes',
          'cnn-service-entry.yaml',
          'egress-gateway.yaml',
          'direct-cnn-through-egress-gateway.yaml',
        ),
      ],
      NOWHERE,
    );
    assert.equal(passthrough.code, 1);
    assert.match(
      passthrough.stdout,
      /direct-cnn-through-egress-gateway\.yaml:\d+:\d+: error TG1011 VirtualService default\/direct-cnn-through-egress-gateway spec\.http\[0\]: .*filter_chain_not_found/,
    );
    const files = corpusCase('broken-certificate-files', 'nginx-service-entry.yaml', 'originate-mtls.yaml');
    const certificates = await tollgate(['validate', ...files, '-o', 'json'], NOWHERE);
    assert.equal(certificates.code, 0, 'warnings only');
    assert.deepEqual(
      (JSON.parse(certificates.stdout) as Finding[]).filter((d) => d.code === 'TG1016').map((d) => d.field),
      [
        'spec.trafficPolicy.portLevelSettings[0].tls.clientCertificate',
        'spec.trafficPolicy.portLevelSettings[0].tls.privateKey',
        'spec.trafficPolicy.portLevelSettings[0].tls.caCertificates',
      ],
    );
  });

  test('a credentialName is not reported missing when no secrets folder was read', async () => {
    const r = await tollgate(
      [
        'validate',
        ...corpusCase(
          'broken-credential-wrong-namespace',
          'nginx-service-entry.yaml',
          'egress-gateway.yaml',
          'direct-nginx-through-egress-gateway.yaml',
          'originate-mtls.yaml',
        ),
      ],
      NOWHERE,
    );
    assert.equal(r.code, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /TG1014/);
  });

  test('a missing file is named; analyze without --offline and without a controller says so', async () => {
    const missing = await tollgate(['validate', '-f', 'no/such.yaml'], NOWHERE);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no\/such\.yaml: no such file or directory/);
    const live = await tollgate(['analyze'], NOWHERE);
    assert.equal(live.code, 1);
    assert.match(live.stderr, /cannot reach the controller at http:\/\/127\.0\.0\.1:9/);
  });
});
