import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import https from 'node:https';
import { LocalCa } from '../pki/index.js';
import { startStandIn } from './stand-in.js';

const ca = LocalCa.create('stand-in test CA');

const octet = (): number => 2 + Math.floor(Math.random() * 250);

function head(address: string, port: number, path: string, host: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port, path, method: 'HEAD', headers: { host }, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

test('a stand-in answers as the site does, on its own address, and says how to reach it', async () => {
  const address = `127.${octet()}.${octet()}.254`;
  const site = await startStandIn('Aliyun.com', address, ca);
  try {
    const [listener, secure] = site.listeners;
    assert.equal(listener?.servicePort, 80);
    assert.equal(secure?.servicePort, 443);
    assert.deepEqual(site.connectTo, [
      { host1: 'aliyun.com', port1: 80, host2: address, port2: listener!.port },
      { host1: 'aliyun.com', port1: 443, host2: address, port2: secure!.port },
    ]);
    const res = await head(address, listener!.port, '/a/b?c=1', 'aliyun.com');
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, 'https://aliyun.com/a/b?c=1');
    assert.equal(res.headers.server, 'tollgate-stand-in');
    // Over https, with a certificate for the site from the stand-ins' CA.
    const page = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = https.request(
        { host: address, port: secure!.port, servername: 'aliyun.com', ca: ca.certificatePem, path: '/', agent: false },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(page.statusCode, 200);
    page.resume();
  } finally {
    await site.close();
  }
});

test('a stand-in needs a DNS name', async () => {
  await assert.rejects(startStandIn('not a host', '127.0.0.1', ca), /--stand-in not a host: expected a DNS name/);
  await assert.rejects(startStandIn('localhost', '127.0.0.1', ca), /expected a DNS name/);
});
