/**
 * The smallest useful plugin, as an example of the plugin kit (README, Writing a plugin): a setting declared once,
 * methods with their access, a reaction to a change in the tree (onChange) and work on a schedule (every), each a
 * few lines. Its tests (test/plugins/hello/hello.test.ts) run it with createTestHost, without a server.
 */
import type { PluginDefinition } from 'igor-ts/plugin-api';

export default {
  description: 'Example plugin: a greeting, a setting, a per-user counter reset every night',
  create(host) {
    const sensors = `sensors/${host.name}`;
    // plugindata/NAME/greeting, with its default; the `settings` method below shows and changes it (admin).
    const settings = host.declareSettings({
      greeting: {
        default: 'Hello',
        check: (value) => (value.length > 100 ? 'a greeting has at most 100 characters' : undefined),
      },
    });

    // However the greeting changes (the setup page, a PUT to /data, igor's CLI), note when and to what: the host
    // calls this after each write that touches it (one that deletes it too: the default greets again).
    host.onChange(`plugindata/${host.name}/greeting`, async () => {
      await host.data.put(`${sensors}/greetingChanged`, { at: host.now().toISOString(), greeting: settings.get('greeting') });
    });

    // At midnight (the server's local time) each user's count of the day becomes yesterday's.
    host.every('0 0 * * *', async () => {
      const users = host.data.refs(`${sensors}/*[count]`).map((ref) => ref.split('/').at(-1)!);
      await host.data.batch(
        users.flatMap((user) => [
          { op: 'put' as const, xpath: `${sensors}/${user}/yesterday`, value: host.data.get(`${sensors}/${user}/count`) ?? 0 },
          { op: 'delete' as const, xpath: `${sensors}/${user}/count` },
        ]),
      );
    });

    return {
      methods: {
        // GET /plugin/hello → "Hello from hello!", for anyone.
        index: { access: 'public', handler: () => `${settings.get('greeting')} from ${host.name}!\n` },
        // GET /plugin/hello/settings → the settings; POST greeting=… changes them (admin).
        settings: settings.method,
        // POST /plugin/hello/count?user=U → U's count of today, one up (U or an admin).
        count: {
          access: 'user',
          handler: async (call) => {
            const user = call.user ?? host.fail(400, 'say whose counter: user=NAME');
            const path = `${sensors}/${user}/count`;
            const count = Number(host.data.get(path) ?? 0) + 1;
            await host.data.put(path, count);
            return { user, count };
          },
        },
      },
    };
  },
} satisfies PluginDefinition;
