// The admin API's answers to bad requests and missing credentials: a 4xx with a message, and nothing changed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeId } from '../proxy-config/types.js';
import type { AdminServer } from './admin-server.js';
import { Controller } from './controller.js';
import { serve } from './testing/serve.js';
import { loadOrCreateTokens, tokenPath, type Role } from './credentials.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

describe('admin API', () => {
  let controller: Controller;
  let admin: AdminServer;
  let dir: string;
  let tokens: Record<Role, string>;

  before(async () => {
    dir = tempDir('admin');
    controller = new Controller(dir);
    await controller.start();
    ({ admin, tokens } = await serve(controller));
  });

  after(async () => {
    controller.stop();
    await admin.close();
  });

  const call = async (
    method: string,
    p: string,
    body?: string,
    token: string | null = tokens.admin,
  ): Promise<{ status: number; error: string }> => {
    const res = await fetch(`${admin.url}${p}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body,
    });
    const json = (await res.json()) as { error?: unknown };
    return { status: res.status, error: typeof json.error === 'string' ? json.error : '' };
  };

  describe('credentials', () => {
    it('the tokens are created with 0600 permissions in a 0700 directory', () => {
      assert.equal(fs.statSync(tokenPath(dir, 'admin')).mode & 0o777, 0o600);
      assert.equal(fs.statSync(tokenPath(dir, 'proxy')).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.dirname(tokenPath(dir, 'admin'))).mode & 0o777, 0o700);
      assert.notEqual(tokens.admin, tokens.proxy);
      assert.deepEqual(loadOrCreateTokens(dir), tokens, 'a restart keeps them');
    });

    it('no credential, or a wrong one: 401 saying where the token is; /healthz stays open', async () => {
      for (const token of [null, 'tgadm_wrong', `${tokens.admin}x`]) {
        const r = await call('GET', '/v1/status', undefined, token);
        assert.equal(r.status, 401);
        assert.ok(r.error.includes(tokenPath(dir, 'admin')), r.error);
      }
      assert.equal((await call('GET', '/healthz', undefined, null)).status, 200);
    });

    it('the proxy token cannot change the configuration; the admin token cannot join as a proxy', async () => {
      const apply = await call('POST', '/v1/apply', '{"files":[{"name":"a","content":""}]}', tokens.proxy);
      assert.equal(apply.status, 403);
      assert.match(apply.error, /the proxy token cannot be used here/);
      const join = await call('POST', '/v1/discovery', '{}', tokens.admin);
      assert.equal(join.status, 403);
      assert.ok(join.error.includes(tokenPath(dir, 'proxy')), join.error);
      for (const p of ['/v1/discovery', '/v1/discovery/ack']) {
        assert.equal((await call('POST', p, '{}', null)).status, 401, p);
      }
    });
  });

  describe('bad input: a 4xx naming the problem, never a 500', () => {
    const node = {
      id: nodeId('router', '127.0.0.9', 'gw', 'istio-system'),
      type: 'router',
      name: 'gw',
      namespace: 'istio-system',
      ip: '127.0.0.9',
      labels: { istio: 'egressgateway' },
      serviceAccount: 'gw',
    };
    const cases: [string, string, string | undefined, number, RegExp, Role?][] = [
      ['POST', '/v1/apply', '{"files": [', 400, /malformed JSON in the request body/],
      ['POST', '/v1/apply', 'null', 400, /the body: expected an object, got null/],
      ['POST', '/v1/apply', '[]', 400, /expected an object, got a list/],
      ['POST', '/v1/apply', '{}', 400, /files: expected a list/],
      ['POST', '/v1/apply', '{"files": "a.yaml"}', 400, /files: expected a list, got the string "a.yaml"/],
      ['POST', '/v1/apply', '{"files": []}', 400, /at least one file/],
      ['POST', '/v1/apply', '{"files": [null]}', 400, /files\[0\]: expected an object, got null/],
      ['POST', '/v1/apply', '{"files": [{"name": "a.yaml"}]}', 400, /files\[0\]\.content: expected a string/],
      ['POST', '/v1/apply', '{"files": [{"name": 1, "content": ""}]}', 400, /files\[0\]\.name/],
      ['POST', '/v1/apply', '{"files": [{"name": "a", "content": ""}], "dryRun": "yes"}', 400, /dryRun/],
      ['POST', '/v1/delete', '{"refs": null}', 400, /refs: expected a list, got null/],
      ['POST', '/v1/delete', '{"refs": [{"kind": "Pod", "namespace": "d", "name": "x"}]}', 400, /refs\[0\]\.kind/],
      ['POST', '/v1/delete', '{"refs": [{"kind": "Gateway", "namespace": 1, "name": "x"}]}', 400, /namespace/],
      ['POST', '/v1/analyze', '{"files": {}}', 400, /files: expected a list, got an object/],
      ['GET', '/v1/wait?version=abc', undefined, 400, /version: expected a version/],
      ['GET', '/v1/wait?version=1&timeoutMs=-5', undefined, 400, /timeoutMs: expected an integer from 0/],
      ['GET', '/v1/wait?version=1&timeoutMs=1e9', undefined, 400, /timeoutMs/],
      ['GET', '/v1/resources?kind=Pod', undefined, 400, /kind: expected one of ServiceEntry/],
      ['GET', '/v1/proxies/%ZZ/x/config', undefined, 400, /namespace: "%ZZ" is not valid percent-encoding/],
      ['GET', '/v1/nothing', undefined, 404, /no such endpoint: GET \/v1\/nothing/],
      ['POST', '/v1/discovery', '{"node": null}', 400, /node: expected an object, got null/, 'proxy'],
      ['POST', '/v1/discovery', JSON.stringify({ node: { ...node, labels: [] } }), 400, /node\.labels/, 'proxy'],
      ['POST', '/v1/discovery', JSON.stringify({ node: { ...node, id: 'x' } }), 400, /node\.id: expected/, 'proxy'],
      ['POST', '/v1/discovery/ack', '{"nodeId": 5}', 400, /nodeId: expected a string/, 'proxy'],
      [
        'POST',
        '/v1/discovery/ack',
        JSON.stringify({ nodeId: node.id, session: 's', version: '1', ok: true }),
        404,
        /no proxy .* is connected/,
        'proxy',
      ],
    ];
    for (const [method, p, body, status, message, role] of cases) {
      it(`${method} ${p} ${body ?? ''}`.slice(0, 110), async () => {
        const r = await call(method, p, body, tokens[role ?? 'admin']);
        assert.equal(r.status, status, r.error);
        assert.match(r.error, message);
      });
    }

    it('a body over 16 MB: 413 with a message, read to the end rather than reset', async () => {
      const content = 'x'.repeat(17 * 1024 * 1024);
      const r = await call('POST', '/v1/apply', JSON.stringify({ files: [{ name: 'big.yaml', content }] }));
      assert.equal(r.status, 413);
      assert.match(r.error, /request body over 16777216 bytes/);
    });
  });

  it('nothing was written to the config directory but the tokens', () => {
    assert.deepEqual(fs.readdirSync(dir), ['.tollgate']);
  });
});
