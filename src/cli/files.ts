import fsp from 'node:fs/promises';
import path from 'node:path';

export interface InputFile {
  readonly name: string;
  readonly content: string;
}

const YAML_FILE = /\.ya?ml$/i;

/**
 * Reads `-f` arguments as kubectl does: files, directories (their *.yaml / *.yml, sorted; subdirectories too with
 * `recursive`) or "-" for standard input. Giving no file, or directories that hold none, is an error: a check or an
 * apply of nothing would report success for the wrong reason.
 */
export async function readInputFiles(
  args: readonly string[],
  opts: { readonly recursive?: boolean } = {},
): Promise<InputFile[]> {
  if (args.length === 0) throw new Error('no files given: use -f FILE (a YAML file, a directory, or - for stdin)');
  const out: InputFile[] = [];
  for (const arg of args) {
    if (arg === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      out.push({ name: '<stdin>', content: Buffer.concat(chunks).toString('utf8') });
      continue;
    }
    let stat: Awaited<ReturnType<typeof fsp.stat>>;
    try {
      stat = await fsp.stat(arg);
    } catch {
      throw new Error(`${arg}: no such file or directory`);
    }
    if (!stat.isDirectory()) {
      out.push({ name: arg, content: await fsp.readFile(arg, 'utf8') });
      continue;
    }
    const names = await yamlFilesIn(arg, opts.recursive === true);
    if (names.length === 0) throw new Error(await noYamlIn(arg, opts.recursive === true));
    for (const name of names) out.push({ name, content: await fsp.readFile(name, 'utf8') });
  }
  return out;
}

/** The YAML files of `dir`, sorted by path; with `recursive`, those of its subdirectories too. */
async function yamlFilesIn(dir: string, recursive: boolean): Promise<string[]> {
  const found: string[] = [];
  const entries = (await fsp.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) found.push(...(await yamlFilesIn(p, true)));
    } else if (YAML_FILE.test(e.name)) found.push(p);
  }
  return found;
}

async function noYamlIn(dir: string, recursive: boolean): Promise<string> {
  if (recursive) return `${dir}: no YAML files (*.yaml, *.yml) in this directory or below it`;
  const subdirs = (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  const hint = subdirs.length > 0 ? `; add -R to read its subdirectories (${subdirs.sort().join(', ')})` : '';
  return `${dir}: no YAML files (*.yaml, *.yml) in this directory${hint}`;
}

/** "30s", "2m", "500ms", "10" (seconds) -> milliseconds. */
export function parseTimeout(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--timeout ${text}: expected a duration such as 30s, 2m or 500ms`);
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}
