/** Where this package lies: its template, its shipped plugins and package.json are found from here. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageDir(dir: string): string {
  return existsSync(join(dir, 'package.json')) ? dir : packageDir(dirname(dir));
}

/** The package's folder: above src/, or above dist/src/ when running the compiled JavaScript. */
export const PACKAGE_DIR = packageDir(dirname(fileURLToPath(import.meta.url)));

/** The database a new server starts from. */
export const TEMPLATE = join(PACKAGE_DIR, 'template', 'database.xml');
