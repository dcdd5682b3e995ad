import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FIRST_SEEN_FILE, FirstSeen } from './first-seen.js';
import { tempDir } from '../../test/helpers/temp-dir.js';

test('first-seen times survive a restart; a resource deleted and created again starts anew', () => {
  const dir = tempDir('first-seen');
  let clock = new Date('2026-01-01T10:00:00.250Z');
  const seen = new FirstSeen(dir, () => clock);
  seen.load();
  seen.observe(['ServiceEntry/default/a']);
  assert.equal(seen.get('ServiceEntry/default/a'), '2026-01-01T10:00:00Z');

  clock = new Date('2026-01-01T11:00:00Z');
  const restarted = new FirstSeen(dir, () => clock);
  restarted.load();
  restarted.observe(['ServiceEntry/default/a', 'Gateway/default/g']);
  assert.equal(restarted.get('ServiceEntry/default/a'), '2026-01-01T10:00:00Z');
  assert.equal(restarted.get('Gateway/default/g'), '2026-01-01T11:00:00Z');

  restarted.observe(['Gateway/default/g']);
  clock = new Date('2026-01-01T12:00:00Z');
  restarted.observe(['Gateway/default/g', 'ServiceEntry/default/a']);
  assert.equal(restarted.get('ServiceEntry/default/a'), '2026-01-01T12:00:00Z');
});

test('an unreadable record starts afresh instead of failing', () => {
  const dir = tempDir('first-seen');
  fs.mkdirSync(path.dirname(path.join(dir, FIRST_SEEN_FILE)), { recursive: true });
  fs.writeFileSync(path.join(dir, FIRST_SEEN_FILE), '{not json');
  const seen = new FirstSeen(dir, () => new Date('2026-01-01T00:00:00Z'));
  seen.load();
  seen.observe(['Sidecar/default/s']);
  assert.equal(seen.get('Sidecar/default/s'), '2026-01-01T00:00:00Z');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, FIRST_SEEN_FILE), 'utf8')), {
    'Sidecar/default/s': '2026-01-01T00:00:00Z',
  });
});
