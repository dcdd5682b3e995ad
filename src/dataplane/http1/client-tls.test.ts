// TLS origination by the upstream client: the handshake before the request, SNI, the identity check, and
// failures reported in the tls phase with the error as Node gives it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkServerIdentity, createSecureContext } from 'node:tls';
import { startTlsUpstream, type TlsUpstream, testCa } from '../testing/tls-fixtures.js';
import { UpstreamPool } from './pool.js';
import { codeOf, drive, rawUpstream, readSlowly, until } from './testing/upstream-peer.js';

describe('TLS origination', () => {
  let upstream: TlsUpstream;
  const trusting = { secureContext: createSecureContext({ ca: testCa().certificatePem }), rejectUnauthorized: true };
  before(async () => {
    upstream = await startTlsUpstream(['api.test']);
  });
  after(() => upstream.close());

  it('verifies the server, sends the SNI, and reuses the verified connection', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity, tls: trusting });
    try {
      const first = await drive(pool, { port: upstream.port, servername: 'api.test', checkServerIdentity });
      assert.deepEqual(first.events, ['socket:false', 'connected', 'response:200', 'end']);
      assert.equal(first.body, 'hello over tls');
      assert.equal(upstream.seen.at(-1)?.servername, 'api.test');
      const second = await drive(pool, { port: upstream.port, servername: 'api.test', checkServerIdentity });
      assert.deepEqual([second.reused, second.local, second.body], [true, first.local, 'hello over tls']);
    } finally {
      pool.destroy();
    }
  });

  it('a body of many TLS records, taken slowly, arrives byte for byte', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13 + (i >> 11)) & 0xff;
    const big = await startTlsUpstream(['api.test'], { handler: (_req, res) => res.end(body) });
    const pool = new UpstreamPool({ maxConnections: Infinity, tls: trusting });
    try {
      const out = await drive(pool, { port: big.port, servername: 'api.test', checkServerIdentity, read: false });
      assert.ok((await readSlowly(out.res!)).equals(body), 'the same bytes, in order');
    } finally {
      pool.destroy();
      await big.close();
    }
  });

  it('sends no SNI without a server name, and keeps those connections apart from named ones', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity, tls: trusting });
    try {
      // The certificate also names 127.0.0.1, which the check is run against without a server name.
      const bare = await drive(pool, { port: upstream.port, servername: '', checkServerIdentity });
      assert.equal(bare.body, 'hello over tls');
      assert.equal(upstream.seen.at(-1)?.servername, undefined);
      const named = await drive(pool, { port: upstream.port, servername: 'api.test', checkServerIdentity });
      assert.equal(named.reused, false, 'a connection made without SNI is not one made with it');
    } finally {
      pool.destroy();
    }
  });

  it('a certificate for another name fails in the tls phase, with the identity check’s error', async () => {
    const pool = new UpstreamPool({ maxConnections: Infinity, tls: trusting });
    try {
      const out = await drive(pool, { port: upstream.port, servername: 'other.test', checkServerIdentity });
      assert.deepEqual(out.events, ['socket:false', 'error:tls']);
      assert.equal(codeOf(out.error?.err), 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(pool.size, 0);
    } finally {
      pool.destroy();
    }
  });

  it('a certificate from an untrusted CA fails in the tls phase; without verification it is accepted', async () => {
    const untrusting = { secureContext: createSecureContext({}), rejectUnauthorized: true };
    const strict = new UpstreamPool({ maxConnections: Infinity, tls: untrusting });
    const lax = new UpstreamPool({ maxConnections: Infinity, tls: { ...untrusting, rejectUnauthorized: false } });
    try {
      const refused = await drive(strict, { port: upstream.port, servername: 'api.test' });
      assert.deepEqual(refused.events, ['socket:false', 'error:tls']);
      assert.match(codeOf(refused.error?.err) ?? '', /UNABLE_TO_VERIFY|SELF_SIGNED/);
      const accepted = await drive(lax, { port: upstream.port, servername: 'api.test' });
      assert.equal(accepted.body, 'hello over tls');
    } finally {
      strict.destroy();
      lax.destroy();
    }
  });

  it('a peer that does not speak TLS fails in the tls phase', async () => {
    const plain = await rawUpstream(() => {});
    const pool = new UpstreamPool({ maxConnections: Infinity, tls: trusting });
    try {
      const out = drive(pool, { port: plain.port, servername: 'api.test' });
      // A plain server answers the ClientHello with garbage.
      await until(() => plain.connections.length === 1, 'the connection');
      plain.connections[0]!.socket.write('HTTP/1.1 400 Bad Request\r\n\r\n');
      assert.deepEqual((await out).events, ['socket:false', 'error:tls']);
    } finally {
      pool.destroy();
      await plain.close();
    }
  });
});
