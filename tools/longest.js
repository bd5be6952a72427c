#!/usr/bin/env node
// The longest functions and files in src/ and plugins/, by lines (issue #35: no function over ~80 lines, so that
// a module can be read piece by piece and each piece tested on its own). README's Layout section shows its output.
//
//   node tools/longest.js            the 10 longest functions and the 10 longest files
//   node tools/longest.js --most 20  more of each
//   node tools/longest.js --over 80  every function over 80 lines; exits 1 when there is one
//
// Functions are found with TypeScript's own parser (the typescript package, a dev dependency), through its
// API in `typescript/unstable/sync`: TypeScript 7 has no other, and it is called "unstable" because it may change
// between releases, so a change shows as a clear message here rather than as a wrong list. A function's length
// runs from its first line to its last, without the comment above it, and includes the functions nested in it:
// a closure that holds a module's worth of inner functions is exactly what the list is for.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['src', 'plugins'];

function options(argv) {
  const at = (flag, fallback) => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a whole number above 0`);
    return n;
  };
  return { most: at('--most', 10), over: at('--over', undefined) };
}

function sources() {
  return FOLDERS.flatMap((folder) =>
    readdirSync(join(root, folder), { recursive: true })
      .map((f) => join(folder, f))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
  );
}

async function typescript() {
  try {
    const [{ API }, { SyntaxKind }] = await Promise.all([import('typescript/unstable/sync'), import('typescript/unstable/ast')]);
    return { API, SyntaxKind };
  } catch (err) {
    throw new Error(`tools/longest.js needs TypeScript 7's API (npm install, with dev dependencies): ${err.message}`);
  }
}

/** What a function is called where it is written: its own name, the variable or property it is given to, or its caller. */
function nameOf(node, SyntaxKind) {
  const own = node.name?.getText?.();
  if (own) return own;
  if (node.kind === SyntaxKind.Constructor) return `${nameOf(node.parent, SyntaxKind)} constructor`;
  const parent = node.parent;
  if (parent?.name && (parent.kind === SyntaxKind.VariableDeclaration || parent.kind === SyntaxKind.PropertyAssignment))
    return parent.name.getText();
  if (parent?.kind === SyntaxKind.CallExpression) return `(callback of ${parent.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

function functionsIn(sourceFile, file, SyntaxKind) {
  const kinds = new Set([
    SyntaxKind.FunctionDeclaration,
    SyntaxKind.FunctionExpression,
    SyntaxKind.ArrowFunction,
    SyntaxKind.MethodDeclaration,
    SyntaxKind.Constructor,
    SyntaxKind.GetAccessor,
    SyntaxKind.SetAccessor,
  ]);
  const found = [];
  const line = (position) => sourceFile.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node) => {
    if (kinds.has(node.kind) && node.body) {
      const first = line(node.getStart(sourceFile));
      found.push({ file, line: first, name: nameOf(node, SyntaxKind), lines: line(node.getEnd()) - first + 1 });
    }
    node.forEachChild(visit);
  };
  visit(sourceFile);
  return found;
}

async function measure() {
  const files = sources();
  const { API, SyntaxKind } = await typescript();
  const api = new API({ cwd: root });
  let snapshot;
  try {
    snapshot = api.updateSnapshot({ openProject: join(root, 'tsconfig.json') });
    const project = snapshot.getProjects()[0];
    const functions = files.flatMap((file) => {
      const sourceFile = project.program.getSourceFile(join(root, file));
      if (!sourceFile) throw new Error(`${file} is not in tsconfig.json's project`);
      return functionsIn(sourceFile, file, SyntaxKind);
    });
    const lengths = files.map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length - 1 }));
    return { functions, files: lengths };
  } finally {
    // The snapshot is released before the compiler process it lives in is closed.
    snapshot?.dispose();
    api.close();
  }
}

const row = (lines, where, what = '') => `${String(lines).padStart(5)}  ${where}${what ? `  ${what}` : ''}`;

async function main() {
  const { most, over } = options(process.argv.slice(2));
  const measured = await measure();
  const functions = measured.functions.sort((a, b) => b.lines - a.lines);
  if (over !== undefined) {
    const long = functions.filter((f) => f.lines > over);
    for (const f of long) console.log(row(f.lines, `${relative('.', join(root, f.file))}:${f.line}`, f.name));
    console.log(long.length ? `${long.length} functions over ${over} lines` : `no function over ${over} lines`);
    process.exitCode = long.length ? 1 : 0;
    return;
  }
  console.log(`The ${most} longest functions in ${FOLDERS.join('/ and ')}/ (lines)`);
  for (const f of functions.slice(0, most)) console.log(row(f.lines, `${f.file}:${f.line}`, f.name));
  console.log(`\nThe ${most} longest files (lines)`);
  for (const f of measured.files.sort((a, b) => b.lines - a.lines).slice(0, most)) console.log(row(f.lines, f.file));
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 2;
});
