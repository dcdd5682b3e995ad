// The admin API's answers to bad requests: a clear status and message, and nothing changed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAdminServer, type AdminServer } from './admin-server.js';
import { Controller } from './controller.js';

describe('admin API, bad input', () => {
  let controller: Controller;
  let admin: AdminServer;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-admin-'));
    controller = new Controller(dir);
    await controller.start();
    admin = await startAdminServer(controller, { host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    controller.stop();
    await admin.close();
  });

  const post = async (p: string, body: string): Promise<{ status: number; json: { error?: string } }> => {
    const res = await fetch(`${admin.url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, json: (await res.json()) as { error?: string } };
  };

  it('malformed JSON: 400 naming the problem', async () => {
    const r = await post('/v1/apply', '{"files": [');
    assert.equal(r.status, 400);
    assert.match(r.json.error ?? '', /malformed JSON body/);
  });

  it('apply without files, or with a file missing its content: 400', async () => {
    assert.equal((await post('/v1/apply', '{}')).status, 400);
    const r = await post('/v1/apply', JSON.stringify({ files: [{ name: 'a.yaml' }] }));
    assert.equal(r.status, 400);
    assert.match(r.json.error ?? '', /files\[0\]/);
  });

  it('delete of an unknown kind: 400; of a missing resource: 404 naming it', async () => {
    const bad = await post('/v1/delete', JSON.stringify({ refs: [{ kind: 'Pod', namespace: 'default', name: 'x' }] }));
    assert.equal(bad.status, 400);
    assert.match(bad.json.error ?? '', /unknown kind Pod/);
    const missing = await post(
      '/v1/delete',
      JSON.stringify({ refs: [{ kind: 'ServiceEntry', namespace: 'default', name: 'x' }] }),
    );
    assert.equal(missing.status, 404);
    assert.deepEqual((missing.json as { notFound?: string[] }).notFound, ['ServiceEntry default/x']);
  });

  it('an unknown endpoint: 404 naming it; a discovery request without a node: 400', async () => {
    const res = await fetch(`${admin.url}/v1/nothing`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /no such endpoint: GET \/v1\/nothing/);
    const d = await post('/v1/discovery', '{}');
    assert.equal(d.status, 400);
  });

  it('nothing was written to the config directory', () => {
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
