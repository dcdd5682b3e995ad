// The snapshot version survives restarts (<config-dir>/.tollgate/generation), so versions only grow: a proxy that
// kept serving while the controller was away is pushed a higher version than the one it holds, and `apply --wait`
// never waits for a number from before a restart. A lost or damaged file is covered too: proxies report the
// version they hold when they reconnect, and the controller moves past it (Controller.connect).
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './credentials.js';

const FILE = 'generation';

export function readGeneration(dir: string): number {
  try {
    const n = Number(fs.readFileSync(path.join(dir, STATE_DIR, FILE), 'utf8').trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Synchronous, so that it is on disk before the version is pushed; temp file and rename, never half written. */
export function writeGeneration(dir: string, generation: number, warn: (message: string) => void): void {
  const file = path.join(dir, STATE_DIR, FILE);
  const tmp = `${file}.tollgate-tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, `${generation}\n`);
    fs.renameSync(tmp, file);
  } catch (err) {
    warn(`cannot record config version ${generation} in ${file} (${(err as Error).message}); a restart may reuse it`);
  }
}
