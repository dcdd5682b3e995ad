// The last good configuration, kept beside the config (<config-dir>/.tollgate/last-good.json) so that it outlives
// the process: for each file, the resources that were in force from it and the last content of it that parsed.
// At start, a file that cannot be read, does not parse, holds an invalid resource or was cut short keeps what was in
// force from it, exactly as it would while running. Written atomically after every change in force.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { array, decodeJson, integer, object, optional, record, string } from '../distribution/index.js';
import { parseYaml } from '../ingest/index.js';
import type { AnyResource } from '../model/index.js';
import { STATE_DIR } from './credentials.js';
import { writeFileAtomic } from './journal.js';

export interface LastGoodFile {
  /** The last content of the file that parsed, to tell a cut-short file from an edit. */
  readonly basis?: string;
  readonly resources: readonly AnyResource[];
}

/** Per file, keyed by its path relative to the config directory. */
export type LastGood = ReadonlyMap<string, LastGoodFile>;

const FILE = 'last-good.json';

const decodeRecord = object({
  files: record(
    object({
      basis: optional(string()),
      resources: array(object({ text: string(), line: integer(1, 1e9), col: integer(1, 1e9) }), 1_000_000),
    }),
    1_000_000,
  ),
});

export function lastGoodPath(dir: string): string {
  return path.join(dir, STATE_DIR, FILE);
}

/** The record, or why there is none usable (absent: undefined problem). */
export async function readLastGood(dir: string): Promise<{ lastGood?: LastGood; problem?: string }> {
  const file = lastGoodPath(dir);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { problem: `${file} cannot be read (${code})` };
  }
  try {
    const { files } = decodeJson(decodeRecord, text, file);
    const out = new Map<string, LastGoodFile>();
    for (const [rel, f] of Object.entries(files)) {
      const p = path.join(dir, rel);
      // Each resource is read again from its own text, placed at its old line and column so positions still hold.
      const resources = f.resources.flatMap(
        (r) => parseYaml(`${'\n'.repeat(r.line - 1)}${' '.repeat(r.col - 1)}${r.text}`, p).resources,
      );
      out.set(p, { basis: f.basis, resources });
    }
    return { lastGood: out };
  } catch (err) {
    return { problem: `${file} is not a last good record (${(err as Error).message})` };
  }
}

export async function writeLastGood(dir: string, files: LastGood): Promise<void> {
  const out: Record<string, unknown> = {};
  for (const [p, f] of files) {
    out[path.relative(dir, p)] = {
      ...(f.basis === undefined ? {} : { basis: f.basis }),
      resources: f.resources.map((r) => ({ text: r.text, line: r.source.line, col: r.source.col })),
    };
  }
  await fsp.mkdir(path.join(dir, STATE_DIR), { recursive: true, mode: 0o700 });
  await writeFileAtomic(lastGoodPath(dir), JSON.stringify({ files: out }));
}
