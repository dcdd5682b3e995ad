#!/usr/bin/env node
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('error: tollgate is not built yet: run `npm run build` (or `npm start`) in its directory\n');
  process.exit(1);
}
const { main: run } = await import(main.href);
run(process.argv).catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
