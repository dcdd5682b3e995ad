// The config-directory source: every *.yaml / *.yml file under one directory is part of the mesh's config.
// Edits to the files take effect live (fs.watch, with a one-second poll as a safety net for editors and
// filesystems that don't report changes). Accepted `apply`s are persisted here, atomically, so a restart loses
// nothing.
//
// Last good configuration: what was in force keeps being in force. A file that stops parsing, cannot be read or is
// cut short keeps the resources it had; a resource whose new version has errors keeps its previous version. All of
// it is reported as diagnostics, never silently, and it holds across restarts: the last good configuration is
// recorded beside the config (last-good.ts). A directory with errors at a first start (no record) is withheld:
// no configuration at all is served, rather than what is left of it (which could be ALLOW_ANY by omission).
//
// Writes (apply, delete) go through one journal (journal.ts) and hold the same lock as scans, so that neither a
// crash nor a scan ever sees part of a change.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parseYaml } from '../ingest/index.js';
import { resourceKey, type AnyResource, type Diagnostic } from '../model/index.js';
import { makeDiagnostic } from '../validation/index.js';
import { commitEdits, type FileEdit, recover } from './journal.js';
import { type LastGoodFile, lastGoodPath, readLastGood, writeLastGood } from './last-good.js';

interface FileState {
  readonly path: string;
  readonly hash: string;
  readonly content: string;
  /** The resources in force from this file (new valid ones plus last good ones for those in error). */
  readonly resources: readonly AnyResource[];
  readonly diagnostics: readonly Diagnostic[];
  /** The last content that parsed (a later prefix of it, cut mid-document, is a partial write, not an edit). */
  readonly basis?: string;
}

interface InForce {
  readonly resource: AnyResource;
  readonly file: string;
}

const POLL_INTERVAL_MS = 1_000;
const DEBOUNCE_MS = 50;

export class ConfigDirectory {
  private files = new Map<string, FileState>();
  private watcher: fs.FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  /** Scans and writes, one at a time. */
  private lock: Promise<unknown> = Promise.resolve();
  /** Set at a start with errors and no last good record; cleared once the directory reads without errors. */
  private withholding: Diagnostic | undefined;
  /** What start-up recovery did (an interrupted apply finished, temp files removed), for the operator. */
  readonly notices: string[] = [];
  /**
   * Files this directory wrote itself (an apply, a delete, a recovered change) with what it wrote, until the next
   * scan reads them: their content is an edit by definition, never a torn write, even where it is a prefix of the
   * version before (an apply that removes a last field of a file's last document).
   */
  private written = new Map<string, string>();
  /** Grows whenever the resources in force change (see `revision`). */
  private revisionCount = 0;
  /** Grows whenever resources in force move within or between files while the revision stays (see `placement`). */
  private placementCount = 0;
  /** What is in force, merged from the files once for each change of them. */
  private merged:
    | { inForce: Map<string, InForce>; resources: readonly AnyResource[]; duplicates: Diagnostic[] }
    | undefined;

  /** `onChange` runs after a rescan that changed the resources in force. */
  constructor(
    readonly dir: string,
    private readonly onChange: () => void,
  ) {}

  async load(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    this.notices.push(...(await recover(this.dir, this.written)));
    const { lastGood, problem } = await readLastGood(this.dir);
    if (problem) this.notices.push(`${problem}; starting without it`);
    // The record stands in for the previous scan: what each file had in force is its "previous version".
    for (const [p, f] of lastGood ?? []) this.files.set(p, fromLastGood(p, f));
    this.merged = undefined;
    this.revisionCount++;
    await this.exclusive(async () => {
      await this.doScan();
      const errors = this.errors();
      if (!lastGood && errors.length > 0) this.withholding = withheldNotice(this.dir, errors);
      await this.record();
    });
  }

  /** Why no configuration is served, while it is withheld. */
  withheld(): Diagnostic | undefined {
    return this.withholding;
  }

  /** Files whose last good version is in force instead of what they hold now: why, and what stays. */
  degraded(): Diagnostic[] {
    return [...this.files.values()]
      .filter((f) => f.diagnostics.some((d) => d.name === 'LastGoodConfigInForce'))
      .flatMap((f) => f.diagnostics.filter((d) => d.level === 'error' || d.name === 'LastGoodConfigInForce'));
  }

  /** Errors of the files themselves (not the withholding notice). */
  private errors(): Diagnostic[] {
    return [...[...this.files.values()].flatMap((f) => f.diagnostics), ...this.merge().duplicates].filter(
      (d) => d.level === 'error',
    );
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Records what is in force, unless it is withheld (then nothing in force is known to be good). */
  private async record(): Promise<void> {
    if (this.withholding && this.errors().length > 0) return;
    this.withholding = undefined;
    const files = new Map<string, LastGoodFile>();
    for (const f of this.files.values()) files.set(f.path, { basis: f.basis, resources: f.resources });
    await writeLastGood(this.dir, files);
  }

  watch(): void {
    try {
      this.watcher = fs.watch(this.dir, { persistent: false }, () => this.scheduleScan());
      this.watcher.on('error', () => undefined);
    } catch {
      // Polling below still picks changes up.
    }
    this.pollTimer = setInterval(() => this.scheduleScan(), POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.pollTimer);
    clearTimeout(this.debounce);
  }

  /**
   * Which version of the resources in force `resources()` returns: under one revision, the same resources (kind,
   * name and text). A change that leaves them so (a file that stops parsing and keeps its last good version, a new
   * file with nothing in it, a rescan that finds every file as it was) keeps the revision.
   */
  get revision(): number {
    return this.revisionCount;
  }

  /**
   * Moves when the resources in force stay as they were but not where they were: lines added above a document,
   * a document moved to another file. Their positions, which diagnostics name, are then out of date in anything
   * made under the revision; nothing a proxy is sent changes.
   */
  get placement(): number {
    return this.placementCount;
  }

  /** Resources in force, in file order; a key defined twice keeps its first definition (reported). */
  resources(): readonly AnyResource[] {
    return this.merge().resources;
  }

  diagnostics(): Diagnostic[] {
    return [
      ...(this.withholding ? [this.withholding] : []),
      ...[...this.files.values()].flatMap((f) => f.diagnostics),
      ...this.merge().duplicates,
    ];
  }

  /** Each key in force, with the file that holds it; the first file (by path) wins a duplicate. */
  private merge(): {
    inForce: ReadonlyMap<string, InForce>;
    resources: readonly AnyResource[];
    duplicates: readonly Diagnostic[];
  } {
    if (this.merged) return this.merged;
    const inForce = new Map<string, InForce>();
    const duplicates: Diagnostic[] = [];
    const files = [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const f of files) {
      for (const r of f.resources) {
        const key = resourceKey(r);
        const first = inForce.get(key)?.resource;
        if (first) {
          duplicates.push(
            makeDiagnostic('DuplicateResource', {
              message: `${r.kind} ${r.meta.namespace}/${r.meta.name} is also defined at ${first.source.file}:${first.source.line}; that first definition is in force`,
              position: r.source,
              resource: { kind: r.kind, namespace: r.meta.namespace, name: r.meta.name },
              hint: 'keep one definition per resource in the config directory',
            }),
          );
          continue;
        }
        inForce.set(key, { resource: r, file: f.path });
      }
    }
    this.merged = { inForce, resources: [...inForce.values()].map((e) => e.resource), duplicates };
    return this.merged;
  }

  private scheduleScan(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      void this.scan().then((changed) => {
        if (changed) this.onChange();
      });
    }, DEBOUNCE_MS);
  }

  /** Rereads the directory; returns whether anything in force changed. Scans never overlap, nor meet a write. */
  scan(): Promise<boolean> {
    return this.exclusive(async () => {
      const changed = await this.doScan();
      if (changed) await this.record();
      return changed;
    });
  }

  private async doScan(): Promise<boolean> {
    const paths = await listYamlFiles(this.dir);
    let changed = false;
    const next = new Map<string, FileState>();
    for (const p of paths) {
      const prev = this.files.get(p);
      const read = await readText(p);
      if (read === 'gone') continue; // removed between listing and reading
      if ('problem' in read) {
        // Unreadable is not removed: what the file had in force stays, as for a file that does not parse.
        const state = unreadable(p, read.problem, prev);
        if (prev?.hash !== state.hash) changed = true;
        next.set(p, state);
        continue;
      }
      const hash = sha1(read.text);
      if (prev && prev.hash === hash) {
        next.set(p, prev);
        continue;
      }
      const ours = this.written.get(p) === read.text;
      next.set(p, parseFile(p, read.text, prev, ours));
      changed = true;
    }
    this.written.clear();
    if (next.size !== this.files.size || [...this.files.keys()].some((p) => !next.has(p))) changed = true;
    if (!changed) {
      this.files = next;
      return false;
    }
    const before = this.merge().inForce;
    this.files = next;
    this.merged = undefined;
    const after = this.merge().inForce;
    if (!sameInForce(before, after)) this.revisionCount++;
    else if (!samePlaces(before, after)) this.placementCount++;
    return true;
  }

  /**
   * Persists accepted changes: an upsert replaces the resource's document in the file that holds it, or writes a
   * new file; a delete removes the document (and the file when nothing else is left in it). All the files change,
   * or (a failed write, a crash) none: see journal.ts. The scan that follows runs under the same lock, so the
   * change comes into force whole.
   */
  async persist(upserts: readonly AnyResource[], deletes: readonly string[]): Promise<void> {
    const edits = new Map<string, string>(); // path -> new content ("" = remove the file)
    const contentOf = (p: string): string => edits.get(p) ?? this.files.get(p)?.content ?? '';
    const { inForce } = this.merge();

    for (const r of upserts) {
      const { resource: old, file } = inForce.get(resourceKey(r)) ?? {};
      const text = r.text.endsWith('\n') ? r.text : `${r.text}\n`;
      if (old && file && contentOf(file).includes(old.text)) {
        // Keep the whitespace that followed the old document, so its separator stays on its own line.
        const trailing = old.text.slice(old.text.trimEnd().length) || '\n';
        edits.set(
          file,
          contentOf(file).replace(old.text, () => text.trimEnd() + trailing),
        );
      } else {
        // A file of that name written by hand for something else is added to, never overwritten.
        const target = path.join(this.dir, fileNameFor(r));
        const existing = contentOf(target);
        edits.set(target, isEffectivelyEmpty(existing) ? text : `${existing.replace(/\n*$/, '\n')}---\n${text}`);
      }
    }
    for (const key of deletes) {
      const { resource: old, file } = inForce.get(key) ?? {};
      if (!old || !file) continue;
      edits.set(file, removeDocument(contentOf(file), old.text));
    }
    await this.exclusive(async () => {
      const changes: FileEdit[] = [...edits].map(([p, content]) => ({
        path: path.relative(this.dir, p),
        before: this.files.has(p)
          ? (this.files.get(p)?.content ?? null)
          : fs.existsSync(p)
            ? fs.readFileSync(p, 'utf8')
            : null,
        after: isEffectivelyEmpty(content) ? null : content,
      }));
      await commitEdits(this.dir, changes);
      for (const c of changes) if (c.after !== null) this.written.set(path.join(this.dir, c.path), c.after);
      if (await this.doScan()) await this.record();
    });
  }
}

/** The same resources, in the same order, with the same text. */
function sameInForce(a: ReadonlyMap<string, InForce>, b: ReadonlyMap<string, InForce>): boolean {
  if (a.size !== b.size) return false;
  const other = b.entries();
  for (const [key, { resource }] of a) {
    const [otherKey, entry] = other.next().value as [string, InForce];
    if (key !== otherKey || resource.text !== entry.resource.text) return false;
  }
  return true;
}

/** Resources already known to be the same (sameInForce), each where it was: file, line and column. */
function samePlaces(a: ReadonlyMap<string, InForce>, b: ReadonlyMap<string, InForce>): boolean {
  const other = b.values();
  for (const { resource } of a.values()) {
    const was = resource.source;
    const now = (other.next().value as InForce).resource.source;
    if (was.file !== now.file || was.line !== now.line || was.col !== now.col) return false;
  }
  return true;
}

/** `ours`: the directory wrote this content itself (see `written`). */
function parseFile(p: string, content: string, prev: FileState | undefined, ours: boolean): FileState {
  const hash = sha1(content);
  if (!ours && prev && prev.resources.length > 0 && prev.basis !== undefined && cutShort(content, prev.basis)) {
    const diagnostics = [
      makeDiagnostic('ConfigFileTruncated', {
        message: `${p} ends part-way through a document that its last good version continued (a partial write?)`,
        position: { file: p, line: 1, col: 1 },
        hint: 'finish or restore the file; to remove its resources, delete the file or use `tollgate delete`',
      }),
      lastGoodNotice(
        p,
        `${p} is cut short; its last good configuration (${prev.resources.length} resources) stays in force`,
      ),
    ];
    return { path: p, hash, content, resources: prev.resources, diagnostics, basis: prev.basis };
  }
  const result = parseYaml(content, p);
  const diagnostics = [...result.diagnostics];
  const resources = [...result.resources];
  const syntaxBroken = result.diagnostics.some(
    (d) => d.level === 'error' && (d.code === 'TG0001' || d.code === 'TG0011' || d.code === 'TG0014'),
  );
  if (syntaxBroken && prev) {
    diagnostics.push(
      lastGoodNotice(
        p,
        `${p} does not parse; its last good configuration (${prev.resources.length} resources) stays in force`,
      ),
    );
    return { path: p, hash, content, resources: prev.resources, diagnostics, basis: prev.basis };
  }
  // Resources whose new version is invalid keep their previous version.
  const present = new Set(resources.map(resourceKey));
  for (const d of result.diagnostics) {
    if (d.level !== 'error' || !d.resource || !prev) continue;
    const key = `${d.resource.kind}/${d.resource.namespace}/${d.resource.name}`;
    const old = prev.resources.find((r) => resourceKey(r) === key);
    if (old && !present.has(key)) {
      resources.push(old);
      present.add(key);
      diagnostics.push(lastGoodNotice(p, `${key} has errors; its last good version stays in force`));
    }
  }
  return { path: p, hash, content, resources, diagnostics, basis: syntaxBroken ? prev?.basis : content };
}

/**
 * Whether `content` is `basis` cut short inside a document (a torn write), rather than an edit: an empty file, or a
 * strict prefix of the last good content that does not end where a document ended.
 */
function cutShort(content: string, basis: string): boolean {
  if (content === basis || !basis.startsWith(content)) return false;
  if (content.trim() === '') return true;
  const rest = basis.slice(content.length);
  return !(content.endsWith('\n') && (/^(---|\.\.\.)(\s|$)/.test(rest) || isEffectivelyEmpty(rest)));
}

function unreadable(p: string, problem: string, prev: FileState | undefined): FileState {
  const resources = prev?.resources ?? [];
  const diagnostics = [
    makeDiagnostic('ConfigFileUnreadable', {
      message: `${p} cannot be read: ${problem}`,
      position: { file: p, line: 1, col: 1 },
      hint: 'fix its permissions or encoding (UTF-8)',
    }),
    ...(resources.length > 0
      ? [
          lastGoodNotice(
            p,
            `${p} cannot be read; its last good configuration (${resources.length} resources) stays in force`,
          ),
        ]
      : []),
  ];
  return {
    path: p,
    hash: `unreadable:${problem}`,
    content: prev?.content ?? '',
    resources,
    diagnostics,
    basis: prev?.basis,
  };
}

/** The file's text; or why it cannot be had (not UTF-8, no permission...); or 'gone' when it no longer exists. */
async function readText(p: string): Promise<{ text: string } | { problem: string } | 'gone'> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'gone' : { problem: code ?? (err as Error).message };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { problem: 'not valid UTF-8' };
  }
}

function fromLastGood(p: string, f: LastGoodFile): FileState {
  // No content and no hash: the file as it is now is always read against this state.
  return { path: p, hash: '', content: '', resources: f.resources, diagnostics: [], basis: f.basis };
}

function withheldNotice(dir: string, errors: readonly Diagnostic[]): Diagnostic {
  const files = [...new Set(errors.map((d) => d.position?.file).filter((f) => f !== undefined))];
  return makeDiagnostic('ConfigWithheld', {
    message:
      `no configuration is served: ${files.join(', ') || 'the config directory'} ${files.length === 1 ? 'has' : 'have'} ` +
      `errors, and there is no last good configuration (${lastGoodPath(dir)}) to keep in force instead; proxies get ` +
      'no config (they serve nothing) rather than what is left, which could let everything out',
    position: { file: files[0] ?? dir, line: 1, col: 1 },
    hint: 'fix the errors listed with `tollgate analyze`; the configuration is served as soon as the directory reads cleanly',
  });
}

function lastGoodNotice(file: string, message: string): Diagnostic {
  return makeDiagnostic('LastGoodConfigInForce', { message, position: { file, line: 1, col: 1 } });
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listYamlFiles(p)));
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

/**
 * "kind.namespace.name.yaml", one file per resource, different for every kind/namespace/name by construction: the
 * kind has no dot, the namespace's dots and the name's unusual characters are %-escaped (valid names need none),
 * so the three parts always read back unambiguously.
 */
export function fileNameFor(r: { kind: string; meta: { namespace: string; name: string } }): string {
  const encode = (s: string, keep: RegExp): string =>
    [...s].map((c) => (keep.test(c) ? c : Buffer.from(c).toString('hex').toUpperCase().replace(/../g, '%$&'))).join('');
  return `${r.kind.toLowerCase()}.${encode(r.meta.namespace, /[a-z0-9-]/)}.${encode(r.meta.name, /[a-z0-9.-]/)}.yaml`;
}

/** Removes one document's text and the separator that went with it. */
export function removeDocument(content: string, text: string): string {
  const at = content.indexOf(text);
  if (at < 0) return content;
  const rest = content.slice(0, at) + content.slice(at + text.length);
  return rest
    .replace(/^(?:\s*---[^\n]*\n)+/, '') // separators left at the top
    .replace(/\n---[^\n]*\n(?:\s*---[^\n]*\n)+/g, '\n---\n') // runs of separators
    .replace(/\n---\s*$/, '\n');
}

export function isEffectivelyEmpty(content: string): boolean {
  return content.split('\n').every((l) => /^\s*(#.*)?$/.test(l) || /^---\s*$/.test(l) || /^\.\.\.\s*$/.test(l));
}

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}
