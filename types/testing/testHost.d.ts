// Generated from src/testing/testHost.ts by `npm run types` (tools/types.js): do not edit.
/// <reference types="node" />
import type { PluginDefinition } from '../plugin-api.js';
import type { TestHost, TestHostOptions } from './types.js';
/**
 * A host for a plugin's tests: give the plugin's folder (loaded as `igor plugin add` loads it) or its definition
 * (with `folder` for its database fragment). Close it when done (test.after(() => t.close())).
 */
export declare function createTestHost(plugin: PluginDefinition | string | URL, options?: TestHostOptions): Promise<TestHost>;
