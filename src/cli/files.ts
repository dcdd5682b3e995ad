import fsp from 'node:fs/promises';
import path from 'node:path';

export interface InputFile {
  readonly name: string;
  readonly content: string;
}

/** Reads `-f` arguments: files, directories (their *.yaml / *.yml, sorted) or "-" for standard input. */
export async function readInputFiles(args: readonly string[]): Promise<InputFile[]> {
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
    if (stat.isDirectory()) {
      const names = (await fsp.readdir(arg)).filter((n) => /\.ya?ml$/i.test(n)).sort();
      for (const n of names)
        out.push({ name: path.join(arg, n), content: await fsp.readFile(path.join(arg, n), 'utf8') });
    } else {
      out.push({ name: arg, content: await fsp.readFile(arg, 'utf8') });
    }
  }
  return out;
}

/** "30s", "2m", "500ms", "10" (seconds) -> milliseconds. */
export function parseTimeout(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--timeout ${text}: expected a duration such as 30s, 2m or 500ms`);
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}
