// What a cluster that names no CA trusts: the system's bundle (or Node's roots), NODE_EXTRA_CA_CERTS, local extras.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { defaultTrust, readCaBundle, sanMatches } from './tls-contexts.js';
import { tempDir } from '../../../test/helpers/temp-dir.js';

const PEM = (tag: string) => `-----BEGIN CERTIFICATE-----\n${tag}\n-----END CERTIFICATE-----\n`;

test('the system bundle when there is one, else Node roots; NODE_EXTRA_CA_CERTS and extras added', () => {
  const dir = tempDir('trust');
  const system = path.join(dir, 'ca-certificates.crt');
  const extraFile = path.join(dir, 'extra.pem');
  fs.writeFileSync(system, PEM('SYSTEM'));
  fs.writeFileSync(extraFile, PEM('NODE_EXTRA'));
  const withSystem = defaultTrust([PEM('LOCAL')], {
    paths: [path.join(dir, 'missing'), system],
    env: { NODE_EXTRA_CA_CERTS: extraFile },
  });
  assert.match(withSystem, /SYSTEM[\s\S]*NODE_EXTRA[\s\S]*LOCAL/);
  assert.ok(!withSystem.includes(rootCertificates[0]!), 'the system bundle replaces Node roots');
  const without = defaultTrust(undefined, { paths: [path.join(dir, 'missing')], env: {} });
  assert.ok(without.includes(rootCertificates[0]!), "Node's roots when the system has no bundle");
});

test('SAN matching: exact names and URIs, one-label DNS wildcards', () => {
  const sans = 'DNS:*.example.com, URI:spiffe://cluster.local/ns/a/sa/b, DNS:exact.test';
  assert.equal(sanMatches(sans, ['www.example.com']), true);
  assert.equal(sanMatches(sans, ['a.b.example.com']), false);
  assert.equal(sanMatches(sans, ['spiffe://cluster.local/ns/a/sa/b']), true);
  assert.equal(sanMatches(sans, ['spiffe://cluster.local/ns/a/sa/c']), false);
  assert.equal(sanMatches(sans, ['EXACT.test']), true);
  assert.equal(sanMatches(undefined, ['x']), false);
});

test('a CA bundle file is read whole or refused, naming the file: empty, foreign, truncated or unparsable', () => {
  const dir = tempDir('trust');
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const real = rootCertificates[0]!;
  const good = write('good.pem', `${real}\n${rootCertificates[1]!}\n`);
  assert.equal(readCaBundle(good), fs.readFileSync(good, 'utf8'));
  for (const [name, text, reason] of [
    ['empty.pem', '', /empty\.pem: no PEM certificate in it/],
    ['key.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /key\.pem: no PEM certificate/],
    ['cut.pem', real.slice(0, real.length / 2), /cut\.pem: no PEM certificate/],
    ['garbage.pem', `${real}\n${PEM('not base64 DER')}`, /garbage\.pem: certificate 2 does not parse/],
  ] as const) {
    assert.throws(() => readCaBundle(write(name, text)), reason, name);
  }
  assert.throws(() => readCaBundle(path.join(dir, 'absent.pem')), /cannot read CA certificates .*absent\.pem: ENOENT/);
});
