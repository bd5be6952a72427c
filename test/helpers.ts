/** Shared test helpers: temporary database directories and in-process servers on 127.0.0.1. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { resolveConfig, type Config } from '../src/config.ts';
import { quietLogger } from '../src/logger.ts';
import { startServer, type RunningServer } from '../src/server.ts';

// Cleaned up once the whole test file has run (an after() inside a before() hook would run at once).
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh directory, removed when the test file ends. */
export async function tempDir(prefix = 'igor-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestServer extends RunningServer {
  dir: string;
  /** fetch relative to the server. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** Starts a server on a free port of 127.0.0.1 with a new database; it stops when the test file ends. */
export async function startTestServer(overrides: Partial<Record<keyof Config, string>> = {}, dir?: string): Promise<TestServer> {
  const database = dir ?? (await tempDir());
  const config = resolveConfig({ database, port: '0', host: '127.0.0.1', ...overrides }, {});
  const server = await startServer(config, quietLogger());
  cleanups.push(() => server.close());
  return {
    ...server,
    dir: database,
    request: (path, init) => fetch(server.url + path, init),
  };
}
