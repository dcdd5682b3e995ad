import { formatDiagnostic } from '../model/index.js';
import type { Controller } from './controller.js';

/**
 * Prints what is wrong with the configuration in force: everything at start, then, after each edit of the config
 * directory, the findings that are new (each once, until it changes).
 */
export function reportDiagnostics(controller: Controller, print: (line: string) => void): void {
  let reported = new Set<string>();
  const report = (): void => {
    const now = new Set(controller.diagnostics().map(formatDiagnostic));
    for (const line of now) if (!reported.has(line)) print(line);
    reported = now;
  };
  report();
  // The snapshot is rebuilt on the next turn of the event loop; report after it.
  controller.on('directory-changed', () => setImmediate(report));
}
