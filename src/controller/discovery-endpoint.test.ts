// A proxy id is bound to the stream that holds it, and only that stream's proxy can ACK or NACK for it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { nodeId, type NodeIdentity } from '../proxy-config/types.js';
import type { AdminServer } from './admin-server.js';
import { Controller } from './controller.js';
import { serve } from './testing/serve.js';
import type { Role } from './credentials.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

interface Stream {
  readonly status: number;
  readonly messages: { type: string; session?: string; version?: string }[];
  readonly body: string;
  close(): void;
}

function open(url: string, token: string, body: unknown): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/discovery`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      agent: false,
    });
    req.on('response', (res) => {
      const messages: Stream['messages'] = [];
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (res.statusCode === 200) {
          const lines = text.split('\n');
          text = lines.pop()!;
          for (const l of lines) messages.push(JSON.parse(l));
        }
      });
      const stream = {
        status: res.statusCode ?? 0,
        messages,
        get body() {
          return text;
        },
        close: () => req.destroy(),
      };
      if (res.statusCode === 200) resolve(stream);
      else res.on('end', () => resolve(stream));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}

describe('discovery streams', () => {
  let dir: string;
  let controller: Controller;
  let admin: AdminServer;
  let tokens: Record<Role, string>;
  let sessions = 0;
  const gateway: NodeIdentity = {
    id: nodeId('router', '127.0.0.9', 'istio-egressgateway', 'istio-system'),
    type: 'router',
    name: 'istio-egressgateway',
    namespace: 'istio-system',
    ip: '127.0.0.9',
    labels: { istio: 'egressgateway', app: 'istio-egressgateway' },
    serviceAccount: 'istio-egressgateway-service-account',
  };

  before(async () => {
    dir = tempDir('discovery');
    controller = new Controller(dir, { newSession: () => `session-${++sessions}` });
    await controller.start();
    ({ admin, tokens } = await serve(controller));
  });

  after(async () => {
    controller.stop();
    await admin.close();
  });

  const ack = async (session: string, version: string, ok: boolean): Promise<number> => {
    const res = await fetch(`${admin.url}/v1/discovery/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.proxy}`, 'content-type': 'application/json' },
      body: JSON.stringify({ nodeId: gateway.id, session, version, ok, ...(ok ? {} : { error: 'forged' }) }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('without the proxy token, nobody registers as an egress gateway', async () => {
    const rogue = await open(admin.url, tokens.admin, { node: gateway });
    assert.equal(rogue.status, 403);
    const none = await open(admin.url, 'tgprx_guess', { node: gateway });
    assert.equal(none.status, 401);
    assert.deepEqual(controller.snapshot.instances, []);
  });

  it('the stream starts with its session; a second stream for the same id is refused (409), the first stays', async () => {
    const first = await open(admin.url, tokens.proxy, { node: gateway });
    assert.equal(first.status, 200);
    await until(() => first.messages.some((m) => m.type === 'config'));
    assert.deepEqual(first.messages[0], { type: 'session', session: 'session-1' });

    const second = await open(admin.url, tokens.proxy, { node: gateway });
    assert.equal(second.status, 409);
    assert.match(JSON.parse(second.body).error, /already connected; its stream is not replaced/);

    const pushed = first.messages.length;
    await controller.apply([
      {
        name: 'se.yaml',
        content:
          'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspec:\n  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n',
      },
    ]);
    await until(() => first.messages.length > pushed);
    assert.equal(first.messages.at(-1)?.type, 'config', 'the first stream still gets every push');

    // ACKs count only with the stream's own session: a forged NACK is refused and changes nothing.
    const version = first.messages.at(-1)!.version!;
    assert.equal(await ack('session-2', version, false), 403, 'a session not handed to this stream');
    assert.equal(await ack('guess', version, false), 403);
    const status = () => controller.status().proxies.find((p) => p.name === 'istio-egressgateway')!;
    assert.equal(status().nack, undefined);
    assert.equal(await ack('session-1', version, true), 200);
    assert.equal(status().acked, version);

    // The same proxy reconnecting before its old stream is seen to close proves itself with that session.
    const again = await open(admin.url, tokens.proxy, { node: gateway, resume: 'session-1' });
    assert.equal(again.status, 200);
    await until(() => again.messages.some((m) => m.type === 'config'));
    assert.equal(again.messages[0]?.session, 'session-2');
    assert.equal(await ack('session-1', version, true), 403, 'the old session is void');
    again.close();
    first.close();
  });
});
