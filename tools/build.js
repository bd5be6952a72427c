#!/usr/bin/env node
// Compiles the server and the shipped plugins to JavaScript in dist/, so `igor serve` starts without
// transpiling (issue #21: 1.3 s of a start went to tsx). Run by npm's `prepare`, that is by `npm install`.
// A plugin folder holds more than code (setup.html, readme.md, its database fragment): those are copied
// beside the compiled plugin.js, so dist/plugins/NAME is a complete plugin folder.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(dist, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
cpSync(join(root, 'plugins'), join(dist, 'plugins'), {
  recursive: true,
  filter: (path) => extname(path) !== '.ts',
});
// What bin/igor.js compares with the sources' times to tell whether dist/ is current.
writeFileSync(join(dist, 'built'), `${new Date().toISOString()}\n`);
