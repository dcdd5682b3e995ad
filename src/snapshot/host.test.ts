import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coveringWildcards, hostCovers, hostIntersection, HostMap } from './host.js';
import { isExportedTo } from './visibility.js';

describe('host semantics (pkg/config/host)', () => {
  it('wildcards cover as Istio does', () => {
    assert.equal(hostCovers('*.com', 'foo.com'), true);
    assert.equal(hostCovers('*.foo.com', 'foo.com'), false);
    assert.equal(hostCovers('*.foo.com', 'a.b.foo.com'), true);
    assert.equal(hostCovers('*', 'anything.io'), true);
    assert.equal(hostCovers('foo.com', 'foo.com'), true);
    assert.equal(hostCovers('foo.com', '*.com'), false);
    assert.equal(hostCovers('*.com', '*.foo.com'), true);
    assert.equal(hostIntersection('*.example.com', 'dev.example.com'), 'dev.example.com');
    assert.equal(hostIntersection('dev.example.com', '*.example.com'), 'dev.example.com');
    assert.equal(hostIntersection('example.com', '*.example.com'), undefined);
  });

  it('probes wildcards most specific first', () => {
    assert.deepEqual(coveringWildcards('a.b.com'), ['*.b.com', '*.com', '*']);
    const m = new HostMap<string>();
    m.add('*', 'any');
    m.add('*.com', 'com');
    m.add('a.b.com', 'exact');
    m.add('*.b.com', 'b');
    assert.deepEqual(m.matching('a.b.com'), ['exact', 'b', 'com', 'any']);
    assert.deepEqual(m.matching('b.com'), ['com', 'any']);
  });

  it('exportTo', () => {
    assert.equal(isExportedTo([], 'a', 'b'), true);
    assert.equal(isExportedTo(['*'], 'a', 'b'), true);
    assert.equal(isExportedTo(['.'], 'a', 'a'), true);
    assert.equal(isExportedTo(['.'], 'a', 'b'), false);
    assert.equal(isExportedTo(['~'], 'a', 'a'), false);
    assert.equal(isExportedTo(['.', 'b'], 'a', 'b'), true);
  });
});
