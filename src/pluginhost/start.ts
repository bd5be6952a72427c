/**
 * Starting and stopping one plugin: its host made, its create() run, its method table filled in (with the OAuth2
 * methods and command a plugin that asked for OAuth2 gets), and at the end its stop() and everything its host
 * holds for it let go. The registry does this for installed plugins; the test host (src/testing) for the plugin
 * under test, so that both run a plugin alike.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal } from '../auth/principal.ts';
import { BadGatewayError, BadRequestError, NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { PluginInstance, PluginMethodSpec } from '../plugin-api.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { pluginPrincipal, type CheckedDefinition } from './definition.ts';
import { makePluginHost, type HostDeps, type HostOfPlugin } from './host.ts';

export interface RunningPlugin {
  name: string;
  /** Who it is: its name, the extra subtrees it writes and those where it serves its callers. */
  self: Principal & { kind: 'plugin' };
  source: string;
  dir: string;
  description: string;
  methods: Map<string, PluginMethodSpec>;
  host: HostOfPlugin;
  instance: PluginInstance;
}

/** Runs the plugin's create(); one that throws is a 502, and whatever it registered meanwhile goes with it. */
export async function startPlugin(
  deps: HostDeps,
  name: string,
  source: string,
  dir: string,
  checked: CheckedDefinition,
): Promise<RunningPlugin> {
  const self = pluginPrincipal(name, checked);
  const host = makePluginHost(deps, self);
  let instance: PluginInstance;
  try {
    instance = await checked.def.create(host);
  } catch (err) {
    host.dispose();
    throw new BadGatewayError(`plugin ${name} (${source}) did not start: ${(err as Error)?.message ?? String(err)}`);
  }
  const methods = new Map<string, PluginMethodSpec>();
  for (const [method, m] of Object.entries(instance.methods ?? {})) methods.set(method, typeof m === 'function' ? { handler: m } : m);
  addOAuth2(name, dir, host, instance, methods);
  return { name, self, source, dir, description: checked.def.description, methods, host, instance };
}

/** A plugin that asked for OAuth2 gets auth1, auth2 and the `authorize` command, unless it has its own. */
function addOAuth2(name: string, dir: string, host: HostOfPlugin, instance: PluginInstance, methods: Map<string, PluginMethodSpec>): void {
  const flow = host.oauthFlow;
  if (!flow) return;
  if (!methods.has('auth1')) {
    methods.set('auth1', {
      access: 'user',
      handler: (call) => {
        if (!call.user) throw new BadRequestError('auth1 needs user=NAME: whose account to authorise');
        return host.redirect(flow.authorizeUrl(call.user));
      },
    });
  }
  if (!methods.has('auth2')) {
    methods.set('auth2', {
      access: 'public', // the provider sends the browser here; the single-use state is the proof
      handler: async (call) => {
        const user = await flow.complete(call.params);
        const setup = existsSync(join(dir, 'setup.html'));
        return setup
          ? host.redirect(`/plugin/${name}/page/setup.html?user=${encodeURIComponent(user)}&authorised=1`)
          : `${name} authorised for ${user}\n`;
      },
    });
  }
  if (!instance.commands?.['authorize']) {
    // `igor plugin NAME authorize --user U`: the URL U opens in a browser, for a server without its pages at hand.
    instance.commands = {
      ...instance.commands,
      authorize: (args) => {
        const user = args['user'];
        if (!user || !isTagName(user)) throw new BadRequestError('authorize needs --user NAME');
        if (!host.userData(user)) throw new NotFoundError(`${user} has no ${name} entry yet: create it on the setup page first`);
        return `Open this in a browser, as ${user}, within 10 minutes:\n${flow.authorizeUrl(user)}\n`;
      },
    };
  }
}

/** Runs the plugin's stop() (what it throws is logged), then ends whatever it registered with its host. */
export async function stopPlugin(plugin: RunningPlugin, logger: Logger): Promise<void> {
  await Promise.resolve()
    .then(() => plugin.instance.stop?.())
    .catch((err: unknown) => logger.error({ err, plugin: plugin.name }, 'plugin stop failed'));
  plugin.host.dispose();
}
