// The config-directory source: every *.yaml / *.yml file under one directory is part of the mesh's config.
// Edits to the files take effect live (fs.watch, with a one-second poll as a safety net for editors and
// filesystems that don't report changes). Accepted `apply`s are persisted here, atomically, so a restart loses
// nothing.
//
// Last good configuration: a file that stops parsing keeps the resources it had; a resource whose new version
// has errors keeps its previous version. Both are reported as diagnostics, never silently.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parseYaml } from '../ingest/index.js';
import { resourceKey, type AnyResource, type Diagnostic } from '../model/index.js';
import { makeDiagnostic } from '../validation/index.js';

interface FileState {
  readonly path: string;
  readonly hash: string;
  readonly content: string;
  /** The resources in force from this file (new valid ones plus last good ones for those in error). */
  readonly resources: readonly AnyResource[];
  readonly diagnostics: readonly Diagnostic[];
}

const POLL_INTERVAL_MS = 1_000;
const DEBOUNCE_MS = 50;

export class ConfigDirectory {
  private files = new Map<string, FileState>();
  private watcher: fs.FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning: Promise<boolean> | undefined;

  /** `onChange` runs after a rescan that changed the resources in force. */
  constructor(
    readonly dir: string,
    private readonly onChange: () => void,
  ) {}

  async load(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    await this.scan();
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

  /** Resources in force, in file order; a key defined twice keeps its first definition (reported). */
  resources(): AnyResource[] {
    return [...this.merge().inForce.values()].map((e) => e.resource);
  }

  diagnostics(): Diagnostic[] {
    return [...[...this.files.values()].flatMap((f) => f.diagnostics), ...this.merge().duplicates];
  }

  /** Each key in force, with the file that holds it; the first file (by path) wins a duplicate. */
  private merge(): { inForce: Map<string, { resource: AnyResource; file: string }>; duplicates: Diagnostic[] } {
    const inForce = new Map<string, { resource: AnyResource; file: string }>();
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
    return { inForce, duplicates };
  }

  private scheduleScan(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      void this.scan().then((changed) => {
        if (changed) this.onChange();
      });
    }, DEBOUNCE_MS);
  }

  /** Rereads the directory; returns whether anything in force changed. Scans never overlap. */
  async scan(): Promise<boolean> {
    while (this.scanning) await this.scanning;
    this.scanning = this.doScan();
    try {
      return await this.scanning;
    } finally {
      this.scanning = undefined;
    }
  }

  private async doScan(): Promise<boolean> {
    const paths = await listYamlFiles(this.dir);
    let changed = false;
    const next = new Map<string, FileState>();
    for (const p of paths) {
      let content: string;
      try {
        content = await fsp.readFile(p, 'utf8');
      } catch {
        continue; // removed between listing and reading
      }
      const hash = sha1(content);
      const prev = this.files.get(p);
      if (prev && prev.hash === hash) {
        next.set(p, prev);
        continue;
      }
      next.set(p, parseFile(p, content, prev));
      changed = true;
    }
    if (next.size !== this.files.size || [...this.files.keys()].some((p) => !next.has(p))) changed = true;
    this.files = next;
    return changed;
  }

  /**
   * Persists accepted changes: an upsert replaces the resource's document in the file that holds it, or writes a
   * new file; a delete removes the document (and the file when nothing else is left in it). Each file is written
   * to a temporary name and renamed, so readers never see half a file.
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
    for (const [p, content] of edits) {
      if (isEffectivelyEmpty(content)) {
        await fsp.rm(p, { force: true });
      } else {
        const tmp = path.join(path.dirname(p), `.${path.basename(p)}.${process.pid}.tmp`);
        await fsp.writeFile(tmp, content);
        await fsp.rename(tmp, p);
      }
    }
    await this.scan();
  }
}

function parseFile(p: string, content: string, prev: FileState | undefined): FileState {
  const result = parseYaml(content, p);
  const diagnostics = [...result.diagnostics];
  const resources = [...result.resources];
  const syntaxBroken = result.diagnostics.some((d) => d.level === 'error' && d.code === 'TG0001');
  if (syntaxBroken && prev) {
    diagnostics.push(
      lastGoodNotice(
        p,
        `${p} does not parse; its last good configuration (${prev.resources.length} resources) stays in force`,
      ),
    );
    return { path: p, hash: sha1(content), content, resources: prev.resources, diagnostics };
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
  return { path: p, hash: sha1(content), content, resources, diagnostics };
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
