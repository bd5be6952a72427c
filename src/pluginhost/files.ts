/**
 * A plugin's files (plugin-api PluginFiles) under <database>/files/NAME/: names are made safe (no path
 * separators, no leading dots, no control characters, at most 100 characters) and every write is durable
 * (file and directory fsynced) before it is acknowledged. Nothing outside the plugin's folder is reachable.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { PluginFiles } from '../plugin-api.ts';
import { fsyncDir, mkdirDurably, writeNewFile } from '../store/files.ts';

const SAFE_DIR = /^[A-Za-z0-9_][\w.-]{0,99}$/;

/** The last path segment of a client's file name, reduced to safe characters. */
export function safeFilename(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  const cleaned = last
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .replace(/\s+$/, '')
    .slice(-100);
  return cleaned || 'file';
}

export function pluginFiles(databaseDir: string, plugin: string): PluginFiles {
  const root = resolve(databaseDir, 'files', plugin);
  const inside = (path: string): string => {
    const full = resolve(root, path);
    if (full !== root && !full.startsWith(root + sep)) throw new BadRequestError(`${path} is outside the plugin's files`);
    return full;
  };
  return {
    async write(dir, filename, data) {
      const parts = dir.split('/').filter(Boolean);
      if (!parts.every((p) => SAFE_DIR.test(p))) throw new BadRequestError(`"${dir}" is not a folder name for plugin files`);
      const folder = inside(parts.join('/'));
      // Each folder made is made durable in its parent, like the file in it.
      await mkdirDurably(folder);
      // A prefix keeps two uploads of the same name apart, and the time orders them.
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
      const name = `${stamp}-${randomBytes(3).toString('hex')}-${safeFilename(filename)}`;
      const path = join(folder, name);
      await writeNewFile(path, data);
      await fsyncDir(folder);
      return relative(root, path).split(sep).join('/');
    },
    async read(path) {
      try {
        return await readFile(inside(path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`there is no file ${path}`);
        throw err;
      }
    },
  };
}
