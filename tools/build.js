#!/usr/bin/env node
// Compiles the server and the shipped plugins to JavaScript in dist/, so `igor serve` starts without
// transpiling (issue #21: 1.3 s of a start went to tsx). Run by npm's `prepare`, that is by `npm install` and by
// `npm ci --omit=dev`: so it uses esbuild, a dependency (tsx runs on it too), not TypeScript, a dev dependency
// (issue #32). esbuild only strips the types, file by file; `npm test` checks them (`tsc --noEmit`).
// A plugin folder holds more than code (setup.html, readme.md, its database fragment): those are copied
// beside the compiled plugin.js, so dist/plugins/NAME is a complete plugin folder.
import { transform } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
/** The lowest Node the package supports (package.json's engines): esbuild lowers nothing it runs. */
const TARGET = 'node20';

/**
 * Relative imports name TypeScript files (`./x.ts`, as Node and tsx want them); the compiled ones are `./x.js`.
 * esbuild prints every module specifier in double quotes, so the three forms are these.
 */
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)"(\.{1,2}\/[^"]*)\.ts"/g;

function sources(folder) {
  return readdirSync(join(root, folder), { recursive: true })
    .map((f) => join(folder, f))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
}

async function compile(file) {
  const { code, warnings } = await transform(readFileSync(join(root, file), 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: TARGET,
    sourcefile: file,
    // As tsc compiles with tsconfig.json's target (ES2022): class fields are defined, not assigned.
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
  });
  for (const w of warnings) console.warn(`${file}: ${w.text}`);
  const out = join(dist, file.replace(/\.ts$/, '.js'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code.replace(RELATIVE_TS, '$1"$2.js"'));
}

rmSync(dist, { recursive: true, force: true });
const files = [...sources('src'), ...sources('plugins')];
await Promise.all(files.map(compile));
cpSync(join(root, 'plugins'), join(dist, 'plugins'), {
  recursive: true,
  filter: (path) => extname(path) !== '.ts',
});
// What bin/igor.js compares with the sources' times to tell whether dist/ is current.
writeFileSync(join(dist, 'built'), `${new Date().toISOString()}\n`);
console.log(`compiled ${files.length} files into ${relative(process.cwd(), dist) || '.'}/`);
