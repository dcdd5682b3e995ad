import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { dnsServerResolver, systemResolver } from './resolver.js';

/** A DNS server that answers A queries from a table (TTL 5s) and everything else with no data. */
function startDns(table: Record<string, string[]>): Promise<{ socket: Socket; port: number; queries: string[] }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    let offset = 12;
    const labels: string[] = [];
    while (msg[offset]! > 0) {
      const len = msg[offset]!;
      labels.push(msg.subarray(offset + 1, offset + 1 + len).toString());
      offset += len + 1;
    }
    const name = labels.join('.').toLowerCase();
    const qtype = msg.readUInt16BE(offset + 1);
    const question = msg.subarray(12, offset + 5);
    queries.push(`${name}/${qtype}`);
    const addresses = qtype === 1 ? (table[name] ?? []) : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(table[name] ? 0x8180 : 0x8183, 2); // NOERROR or NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(1, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(5, 6);
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
      return rr;
    });
    socket.send(Buffer.concat([header, question, ...answers]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) =>
    socket.bind(0, '127.0.0.1', () => resolve({ socket, port: socket.address().port, queries })),
  );
}

describe('dnsServerResolver', () => {
  let dns: Awaited<ReturnType<typeof startDns>>;
  before(async () => {
    dns = await startDns({ 'aliyun.test': ['10.1.2.3', '10.1.2.4'] });
  });
  after(() => dns.socket.close());

  it('asks the given server and caches answers for their TTL', async () => {
    let now = 1_000_000;
    const resolver = dnsServerResolver([`127.0.0.1:${dns.port}`], { now: () => now });
    assert.deepEqual((await resolver.resolve('aliyun.test')).sort(), ['10.1.2.3', '10.1.2.4']);
    assert.deepEqual(await resolver.resolve('ALIYUN.test'), ['10.1.2.3', '10.1.2.4']);
    assert.equal(dns.queries.filter((q) => q === 'aliyun.test/1').length, 1);
    now += 6_000;
    await resolver.resolve('aliyun.test');
    assert.equal(dns.queries.filter((q) => q === 'aliyun.test/1').length, 2);
  });

  it('returns IP literals as they are and rejects unknown names', async () => {
    const resolver = dnsServerResolver([`127.0.0.1:${dns.port}`]);
    assert.deepEqual(await resolver.resolve('192.0.2.1'), ['192.0.2.1']);
    assert.deepEqual(await resolver.resolve('[::1]'), ['::1']);
    await assert.rejects(resolver.resolve('missing.test'));
  });
});

describe('systemResolver', () => {
  it('returns IP literals without a lookup', async () => {
    assert.deepEqual(await systemResolver().resolve('127.0.0.1'), ['127.0.0.1']);
  });

  it('keeps an answer for the refresh rate, shares a lookup in flight and keeps no failure', async () => {
    let clock = 0;
    const asked: string[] = [];
    let answer: string[] | Error = ['10.0.0.1'];
    const resolver = systemResolver({
      now: () => clock,
      lookup: async (name) => {
        asked.push(name);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    });
    const [a, b] = await Promise.all([resolver.resolve('Site.test'), resolver.resolve('site.test')]);
    assert.deepEqual([a, b], [['10.0.0.1'], ['10.0.0.1']]);
    assert.equal(asked.length, 1, 'one lookup for both');
    clock = 4_999;
    await resolver.resolve('site.test');
    assert.equal(asked.length, 1, 'still fresh');
    clock = 5_000;
    answer = new Error('ENOTFOUND');
    await assert.rejects(resolver.resolve('site.test'), /ENOTFOUND/);
    answer = ['10.0.0.2'];
    assert.deepEqual(await resolver.resolve('site.test'), ['10.0.0.2'], 'the failure was not kept');
    assert.equal(asked.length, 3);
  });
});
