// All-or-nothing changes to several files of the config directory. An apply may touch many files; a crash (or a
// failed write) half-way must leave either all of them changed or none. A redo journal does it:
//
//   1. the whole change (every file's content before and after) is written to .tollgate/journal.json: temp file,
//      fsync, rename, so that the journal is either absent or complete;
//   2. each file is written (temp file beside it, fsync, rename);
//   3. the journal is removed.
//
// A crash before 3 leaves the journal: at the next start `recover` writes every file's content again (roll
// forward; writing a file twice is harmless). A crash before 1 completes leaves only a temp file: nothing was
// changed, and the temp file is removed. A write that fails while running rolls back to the contents before.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { array, decodeJson, object, string, type Decoder } from '../distribution/index.js';
import { STATE_DIR } from './credentials.js';

export interface FileEdit {
  /** Relative to the config directory. */
  readonly path: string;
  /** null: the file does not exist (before) or is removed (after). */
  readonly before: string | null;
  readonly after: string | null;
}

const JOURNAL = 'journal.json';
const TEMP_SUFFIX = '.tollgate-tmp';

const nullable =
  <T>(d: Decoder<T>): Decoder<T | null> =>
  (v, p) =>
    v === null ? null : d(v, p);
const decodeJournal = object({
  edits: array(object({ path: string(), before: nullable(string()), after: nullable(string()) }), 1_000_000),
});

function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}${TEMP_SUFFIX}`);
}

/** Temp file, fsync, rename: readers and a crash see the old content or the new, never a part. */
export async function writeFileAtomic(file: string, content: string, mode?: number): Promise<void> {
  const tmp = tempPath(file);
  const handle = await fsp.open(tmp, 'w', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

async function setContent(dir: string, edit: FileEdit, content: string | null): Promise<void> {
  const file = path.join(dir, edit.path);
  if (content === null) await fsp.rm(file, { force: true });
  else {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, content);
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    await handle.sync().finally(() => handle.close());
  } catch {
    // Not every filesystem lets a directory be opened and synced; the renames are still atomic.
  }
}

/** Applies every edit, or (on a failure) none: the files are put back as they were and the error is thrown. */
export async function commitEdits(dir: string, edits: readonly FileEdit[]): Promise<void> {
  if (edits.length === 0) return;
  const state = path.join(dir, STATE_DIR);
  await fsp.mkdir(state, { recursive: true, mode: 0o700 });
  const journal = path.join(state, JOURNAL);
  await writeFileAtomic(journal, JSON.stringify({ edits }));
  await syncDir(state);
  const done: FileEdit[] = [];
  try {
    for (const edit of edits) {
      await setContent(dir, edit, edit.after);
      done.push(edit);
    }
  } catch (err) {
    for (const edit of done.reverse()) await setContent(dir, edit, edit.before).catch(() => undefined);
    await fsp.rm(journal, { force: true });
    throw err;
  }
  await syncDir(dir);
  await fsp.rm(journal, { force: true });
}

/**
 * At start: finishes a change that a crash interrupted (its journal is complete, so every file gets its new
 * content) and removes the temp files a crash left behind. Returns what was done, for the operator; `written`
 * gets each file it wrote (its absolute path) with its new content.
 */
export async function recover(dir: string, written?: Map<string, string>): Promise<string[]> {
  const notes: string[] = [];
  const journal = path.join(dir, STATE_DIR, JOURNAL);
  let text: string | undefined;
  try {
    text = await fsp.readFile(journal, 'utf8');
  } catch {
    // no interrupted change
  }
  if (text !== undefined) {
    try {
      const { edits } = decodeJson(decodeJournal, text, journal);
      for (const edit of edits) {
        await setContent(dir, edit, edit.after);
        if (edit.after !== null) written?.set(path.join(dir, edit.path), edit.after);
      }
      await syncDir(dir);
      notes.push(`finished an interrupted change of ${edits.length} file(s) from ${journal}`);
    } catch (err) {
      notes.push(`ignored an unreadable ${journal}: ${(err as Error).message}`);
    }
    await fsp.rm(journal, { force: true });
  }
  for (const tmp of findTemps(dir)) {
    await fsp.rm(tmp, { force: true });
    notes.push(`removed ${tmp}, left by an interrupted write`);
  }
  return notes;
}

function findTemps(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return findTemps(p);
    return e.name.endsWith(TEMP_SUFFIX) ? [p] : [];
  });
}
