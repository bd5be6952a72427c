/**
 * The smallest useful plugin, as an example of the plugin API: a greeting anyone may read, a setting only an
 * admin may change, and a per-user counter kept under sensors/NAME/USER.
 */
import type { PluginDefinition } from 'igor-ts/plugin-api';

export default {
  description: 'Example plugin: a greeting, a setting and a per-user counter',
  create(host) {
    return {
      methods: {
        // GET /plugin/hello → "Hello from hello!" (the greeting is a setting in plugindata/hello).
        index: { access: 'public', handler: () => `${host.settings()['greeting'] ?? 'Hello'} from ${host.name}!\n` },
        // GET /plugin/hello/settings → the settings; POST with greeting=… changes them (admin only).
        settings: async (call) => {
          const greeting = call.params['greeting'];
          if (call.method === 'POST' && greeting !== undefined) {
            if (greeting.length > 100) host.fail(400, 'a greeting has at most 100 characters');
            await host.data.put(`plugindata/${host.name}/greeting`, greeting);
          }
          return { greeting: host.settings()['greeting'] ?? null };
        },
        // POST /plugin/hello/count?user=U → U's counter, one up (U or an admin).
        count: {
          access: 'user',
          handler: async (call) => {
            const user = call.user ?? host.fail(400, 'say whose counter: user=NAME');
            const path = `sensors/${host.name}/${user}/count`;
            const count = Number(host.data.get(path) ?? 0) + 1;
            await host.data.put(path, count);
            return { user, count };
          },
        },
      },
    };
  },
} satisfies PluginDefinition;
