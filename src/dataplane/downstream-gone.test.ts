// The client going away, told to whichever steps of a request listen for it: once each, in the order they
// listened, never to one that stopped listening.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownstreamGone } from './downstream-gone.js';

describe('DownstreamGone', () => {
  it('tells each listener once, in the order they listened; a listener that stopped hears nothing', () => {
    const gone = new DownstreamGone();
    const heard: string[] = [];
    const a = (): void => void heard.push('a');
    const b = (): void => void heard.push('b');
    const c = (): void => void heard.push('c');
    gone.listen(a);
    gone.listen(b);
    gone.listen(c);
    gone.unlisten(b);
    assert.equal(gone.aborted, false);
    gone.fire();
    gone.fire();
    assert.deepEqual(heard, ['a', 'c']);
    assert.equal(gone.aborted, true);
  });

  it('the first listener can stop and a later one still hears it; one that listens after is told at once', () => {
    const gone = new DownstreamGone();
    const heard: string[] = [];
    const a = (): void => void heard.push('a');
    gone.listen(a);
    gone.unlisten(a);
    gone.unlisten(a);
    gone.listen(() => heard.push('b'));
    gone.fire();
    assert.deepEqual(heard, ['b']);
    gone.listen(() => heard.push('late'));
    assert.deepEqual(heard, ['b', 'late']);
  });

  it('a listener that stops after the first one left keeps the others', () => {
    const gone = new DownstreamGone();
    const heard: string[] = [];
    const a = (): void => void heard.push('a');
    const b = (): void => void heard.push('b');
    gone.listen(a);
    gone.listen(b);
    gone.unlisten(a);
    gone.listen(() => heard.push('c'));
    gone.fire();
    assert.deepEqual(heard, ['b', 'c']);
  });
});
