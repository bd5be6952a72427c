#!/usr/bin/env node
// Writes types/: the compiled declarations of what the package exports to plugin authors, `igor-ts/plugin-api` and
// `igor-ts/testing` (package.json `exports`, the `types` condition), so that a plugin in a folder of its own
// type-checks against the installed package without our sources.
//
// Why a checked-in folder rather than a step of `npm install`: declarations need TypeScript, a dev dependency, and
// `npm ci --omit=dev` must still install (tools/build.js compiles dist/ with esbuild for that reason). So types/
// is generated here, by hand (`npm run types`), and committed; `node tools/types.js --check` (run by
// test/testing/types.test.ts) fails, naming the files, when it no longer matches the sources.
//
// tsc emits declarations for every file the entry points import; only those the exported declarations themselves
// reach are kept (the plugin API imports nothing; the test host's public types reach a few small modules).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TYPES = join(root, 'types');
/** The exported modules, as paths below src/. */
const ENTRIES = ['plugin-api.ts', 'testing/index.ts'];
const RELATIVE_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*)'(\.{1,2}\/[^']*)\.ts'/g;

/** Runs tsc over the entry points into a temporary folder; answers that folder. */
function emit() {
  const out = mkdtempSync(join(tmpdir(), 'igor-types-'));
  const config = join(out, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: true,
        rootDir: join(root, 'src'),
        outDir: join(out, 'd'),
        typeRoots: [join(root, 'node_modules', '@types')],
        // The tree's types (Node, Element) are the DOM's; the repository's typecheck gets them through its tests.
        lib: ['ES2023', 'DOM'],
      },
      include: [],
      files: ENTRIES.map((e) => join(root, 'src', e)),
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) throw new Error('TypeScript is not installed (a dev dependency): npm install, then npm run types');
  const run = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`tsc failed:\n${run.stdout}${run.stderr}`);
  return out;
}

/** The declaration files the entry points reach through their imports, by path below the output, rewritten. */
function reachable(dir) {
  const files = new Map();
  const pending = ENTRIES.map((e) => e.replace(/\.ts$/, '.d.ts'));
  while (pending.length) {
    const file = pending.pop();
    if (files.has(file)) continue;
    const text = readFileSync(join(dir, file), 'utf8').replace(RELATIVE_IMPORT, (_, before, path) => {
      pending.push(relative(dir, resolve(dir, dirname(file), `${path}.d.ts`)));
      return `${before}'${path}.js'`;
    });
    const source = `src/${file.replace(/\.d\.ts$/, '.ts')}`;
    // Buffer and Headers are Node's: an author without @types/node is told that, not that Buffer is unknown.
    files.set(
      file,
      `// Generated from ${source} by \`npm run types\` (tools/types.js): do not edit.\n/// <reference types="node" />\n${text}`,
    );
  }
  return files;
}

function existing() {
  if (!existsSync(TYPES)) return new Map();
  return new Map(
    readdirSync(TYPES, { recursive: true })
      .filter((f) => f.endsWith('.d.ts'))
      .map((f) => [f, readFileSync(join(TYPES, f), 'utf8')]),
  );
}

const out = emit();
try {
  const wanted = reachable(join(out, 'd'));
  if (process.argv.includes('--check')) {
    const have = existing();
    const stale = [...new Set([...wanted.keys(), ...have.keys()])].filter((f) => wanted.get(f) !== have.get(f)).sort();
    if (stale.length) {
      console.error(`types/ does not match the sources (${stale.map((f) => `types/${f}`).join(', ')}): run npm run types`);
      process.exitCode = 1;
    } else console.log(`types/ is current (${wanted.size} files)`);
  } else {
    rmSync(TYPES, { recursive: true, force: true });
    for (const [file, text] of wanted) {
      mkdirSync(dirname(join(TYPES, file)), { recursive: true });
      writeFileSync(join(TYPES, file), text);
    }
    console.log(`wrote ${wanted.size} declaration files into types/`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
