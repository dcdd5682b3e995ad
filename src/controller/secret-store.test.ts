// Credentials for credentialName from the config directory's secrets folder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SecretStore } from './secret-store.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

function dirWith(files: Record<string, string>): string {
  const dir = tempDir('secrets');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

test('reads TLS and generic secrets by namespace/name; a change is seen by the next scan, and only then', () => {
  const dir = dirWith({
    'secrets/istio-system/egress-cred/tls.crt': 'CERT',
    'secrets/istio-system/egress-cred/tls.key': 'KEY',
    'secrets/istio-system/egress-cred-cacert/ca.crt': 'CA',
    'secrets/default/client/cert': 'C2',
    'secrets/default/client/key': 'K2',
    'secrets/default/client/cacert': 'CA2',
    'secrets/default/empty/README': 'not a credential',
    'secrets/Bad_Name/x/tls.crt': 'ignored: not a namespace',
  });
  const warnings: string[] = [];
  const store = new SecretStore(dir, (m) => warnings.push(m));
  assert.equal(store.scan(), true);
  const secrets = store.current();
  assert.deepEqual([...secrets.keys()].sort(), [
    'default/client',
    'istio-system/egress-cred',
    'istio-system/egress-cred-cacert',
  ]);
  assert.deepEqual(
    { ...secrets.get('istio-system/egress-cred'), source: undefined },
    { certificateChain: 'CERT', privateKey: 'KEY', source: undefined },
  );
  assert.equal(secrets.get('default/client')?.trustedCa, 'CA2');
  assert.equal(store.scan(), false, 'nothing changed');
  const before = store.fingerprint;
  fs.writeFileSync(path.join(dir, 'secrets/istio-system/egress-cred/tls.crt'), 'ROTATED');
  assert.equal(store.scan(), true);
  assert.notEqual(store.fingerprint, before);
  assert.equal(store.current().get('istio-system/egress-cred')?.certificateChain, 'ROTATED');
  assert.deepEqual(warnings, []);
});

test('no secrets folder is no credentials, not an error; an oversized file is skipped with a warning', () => {
  const warnings: string[] = [];
  const empty = new SecretStore(dirWith({}), (m) => warnings.push(m));
  assert.equal(empty.scan(), false);
  assert.equal(empty.current().size, 0);
  const big = dirWith({
    'secrets/default/huge/tls.crt': 'x'.repeat(1024 * 1024 + 1),
    'secrets/default/huge/tls.key': 'K',
  });
  const store = new SecretStore(big, (m) => warnings.push(m));
  store.scan();
  assert.equal(store.current().get('default/huge')?.certificateChain, undefined);
  assert.equal(store.current().get('default/huge')?.privateKey, 'K');
  assert.match(warnings[0] ?? '', /over 1048576 bytes: skipped/);
});
