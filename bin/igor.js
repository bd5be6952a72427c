#!/usr/bin/env node
// The `igor` command. It runs the JavaScript that `npm install` compiled into dist/ (tools/build.js), which
// starts in a fraction of the time; when dist/ is missing or older than a source file (a `git pull` without
// `npm install`, or an edit), it runs the TypeScript sources through tsx instead, and says so.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestSource() {
  let newest = 0;
  for (const folder of ['src', 'plugins']) {
    for (const file of readdirSync(join(root, folder), { recursive: true })) {
      // A file may go between the listing and its stat (an editor's temporary file, a __pycache__ being
      // cleaned): that is no reason for the server not to start.
      newest = Math.max(newest, statSync(join(root, folder, file), { throwIfNoEntry: false })?.mtimeMs ?? 0);
    }
  }
  return newest;
}

function compiledIsCurrent() {
  const stamp = join(root, 'dist', 'built');
  return existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource();
}

let main;
if (compiledIsCurrent()) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  if (existsSync(join(root, 'dist')))
    console.error('igor: dist/ is older than the sources; running the sources (npm run build compiles them again)');
  // `import 'tsx'` registers both of its loaders, as `node --import tsx` does: a person's plugin.ts in a
  // database's plugins/ folder lies outside this package, with no package.json saying it is an ES module, so
  // Node takes it for CommonJS, and with the ES-module loader alone that failed (ERR_REQUIRE_CYCLE_MODULE).
  await import('tsx');
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
