import assert from 'node:assert/strict';
import { it } from 'node:test';
import { headerMutation } from './http-route.js';

it('header values are Envoy formatters: %% is sent as one %', () => {
  assert.deepEqual(
    headerMutation({
      set: { 'x-share': '100%%', 'x-plain': 'as is' },
      add: { 'x-v': '%%HOSTNAME%%' },
      remove: ['x-gone'],
    }),
    {
      set: [
        ['x-share', '100%'],
        ['x-plain', 'as is'],
      ],
      add: [['x-v', '%HOSTNAME%']],
      remove: ['x-gone'],
    },
  );
  assert.equal(headerMutation({ set: {}, add: {}, remove: [] }), undefined);
});
