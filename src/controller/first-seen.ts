// When the controller first saw each resource in force: kubectl's AGE needs a creation time, and the YAML users
// write has none. Kept in the config directory's state folder, so a restart keeps the ages; a resource
// deleted and created again starts anew, as in Kubernetes.
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './credentials.js';

export const FIRST_SEEN_FILE = path.join(STATE_DIR, 'first-seen.json');

export class FirstSeen {
  private times = new Map<string, string>();
  private readonly file: string;

  constructor(
    configDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.file = path.join(configDir, FIRST_SEEN_FILE);
  }

  /** A missing or unreadable file starts the record afresh: ages are informative, never worth refusing to start. */
  load(): void {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(this.file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null) return;
      for (const [key, value] of Object.entries(parsed)) {
        if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) this.times.set(key, value);
      }
    } catch {
      this.times.clear();
    }
  }

  /** Records the keys not seen before and forgets those gone; writes the record when it changed. */
  observe(keys: Iterable<string>): void {
    const stamp = this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    const next = new Map<string, string>();
    for (const key of keys) next.set(key, this.times.get(key) ?? stamp);
    const changed = next.size !== this.times.size || [...next.keys()].some((k) => !this.times.has(k));
    this.times = next;
    if (changed) this.save();
  }

  /** ISO 8601, like Kubernetes' metadata.creationTimestamp. */
  get(key: string): string | undefined {
    return this.times.get(key);
  }

  private save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(this.times), null, 1)}\n`);
      fs.renameSync(tmp, this.file);
    } catch {
      // A read-only config directory still serves; ages then restart with the controller.
    }
  }
}
