// The access-log queue: lines are formatted after their request, in completion order, at the next flush (the next
// request sent) or after the delay; a failing sink costs its own line only; closing writes what waits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessLogRecord } from '../observability/index.js';
import { AccessLogQueue } from './access-log-queue.js';

function record(path: string): AccessLogRecord {
  return {
    start_time: '2026-12-02T01:00:00.000Z',
    route_name: 'default',
    method: 'GET',
    path,
    protocol: 'HTTP/1.1',
    response_code: 200,
    response_flags: '-',
    response_code_details: 'via_upstream',
    connection_termination_details: undefined,
    bytes_received: 0,
    bytes_sent: 2,
    duration: 1,
    upstream_service_time: '1',
    x_forwarded_for: undefined,
    user_agent: 'curl/8',
    request_id: 'id',
    authority: 'a.test',
    upstream_host: '127.0.0.1:80',
    upstream_cluster: 'outbound|80||a.test',
    upstream_local_address: '127.0.0.1:4000',
    downstream_local_address: '127.0.0.1:15001',
    downstream_remote_address: '127.0.0.1:5000',
    requested_server_name: undefined,
    upstream_transport_failure_reason: undefined,
  };
}

const paths = (lines: string[]): string[] => lines.map((l) => (JSON.parse(l) as { path: string }).path);

describe('AccessLogQueue', () => {
  it('writes nothing when a stream completes; the next flush writes every waiting line, in order', () => {
    const lines: string[] = [];
    const q = new AccessLogQueue((line) => lines.push(line), assert.fail, 60_000);
    q.add(record('/a'), 'JSON');
    q.add(record('/b'), 'JSON');
    assert.deepEqual(lines, []);
    assert.equal(q.pending, 2);
    q.flush();
    assert.deepEqual(paths(lines), ['/a', '/b']);
    assert.equal(q.pending, 0);
    q.flush();
    assert.equal(lines.length, 2, 'each line once');
    q.close();
  });

  it('renders each line in the encoding its config had when the stream completed', () => {
    const lines: string[] = [];
    const q = new AccessLogQueue((line) => lines.push(line), assert.fail, 60_000);
    q.add(record('/json'), 'JSON');
    q.add(record('/text'), 'TEXT');
    q.close();
    assert.equal(paths([lines[0]!])[0], '/json');
    assert.match(lines[1]!, /^\[2026-12-02T01:00:00\.000Z\] "GET \/text HTTP\/1\.1" 200 /);
  });

  it('with no flush, the lines go out after the delay', async () => {
    const lines: string[] = [];
    const q = new AccessLogQueue((line) => lines.push(line), assert.fail, 5);
    q.add(record('/late'), 'JSON');
    const deadline = Date.now() + 2_000;
    while (lines.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(paths(lines), ['/late']);
    q.close();
  });

  it('a sink that throws loses its own line, with a warning; the others are written', () => {
    const lines: string[] = [];
    const warnings: string[] = [];
    const q = new AccessLogQueue(
      (line, r) => {
        if (r.path === '/bad') throw new Error('disk full');
        lines.push(line);
      },
      (m) => warnings.push(m),
      60_000,
    );
    for (const p of ['/a', '/bad', '/c']) q.add(record(p), 'JSON');
    q.flush();
    assert.deepEqual(paths(lines), ['/a', '/c']);
    assert.deepEqual(warnings, ['access log: disk full']);
    q.close();
  });

  it('a line added while a flush runs is kept for the next one', () => {
    const lines: string[] = [];
    let q: AccessLogQueue | undefined;
    q = new AccessLogQueue(
      (line, r) => {
        lines.push(line);
        if (r.path === '/first') q!.add(record('/during'), 'JSON');
      },
      assert.fail,
      60_000,
    );
    q.add(record('/first'), 'JSON');
    q.flush();
    assert.deepEqual(paths(lines), ['/first']);
    assert.equal(q.pending, 1);
    q.flush();
    assert.deepEqual(paths(lines), ['/first', '/during']);
    q.close();
  });

  it('close writes what waits', () => {
    const lines: string[] = [];
    const q = new AccessLogQueue((line) => lines.push(line), assert.fail, 60_000);
    q.add(record('/x'), 'JSON');
    q.close();
    assert.deepEqual(paths(lines), ['/x']);
  });
});
