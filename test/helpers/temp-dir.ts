// Temporary directories for tests, removed when the test process exits (each test file runs in a process of its
// own). TOLLGATE_KEEP_TEMP=1 keeps them, to look at after a failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tollgate-${prefix}-`));
  if (made.length === 0 && !process.env.TOLLGATE_KEEP_TEMP) {
    process.once('exit', () => {
      for (const d of made) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  made.push(dir);
  return dir;
}
