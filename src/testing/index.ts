/**
 * `igor-ts/testing`: what a plugin's own tests need to run it without a server (README, Writing a plugin).
 *
 *   import { createTestHost } from 'igor-ts/testing';
 *   const t = await createTestHost(new URL('.', import.meta.url));   // the plugin's folder
 *   const reply = await t.call('index', { as: { user: 'jack' } });
 */
export { createTestHost } from './testHost.ts';
export type { CallOptions, LogEntry, TestCaller, TestHost, TestHostOptions, TestReply } from './types.ts';
export type { TestClock } from './fakeClock.ts';
export type { CapturedRequest, HttpAnswer, HttpHandler } from './capturedHttp.ts';
