/**
 * Igor's `user` plugin: users at run time, with Igor's method names and parameters. The work and the rules
 * (who may, the user-name rule, weak passwords) are the host's accounts, acting with the caller's rights: the
 * plugin lends none of its own.
 */
import type { PluginCall, PluginDefinition, PluginHost, PluginResult } from 'igor-ts/plugin-api';

/** Igor's `returnTo`: back to a page of this server after a form, else a line of text. */
function done(host: PluginHost, call: PluginCall, text: string): PluginResult {
  return host.redirectBack(call.params['returnTo']) ?? `${text}\n`;
}

function needed(host: PluginHost, call: PluginCall, name: string): string {
  const value = call.params[name];
  if (value === undefined || value === '') host.fail(400, `${name}= is needed`);
  return value;
}

export default {
  description: "Users at run time (Igor's user plugin): add, password, delete",
  create(host) {
    return {
      methods: {
        // /plugin/user/add?username=U&password=P[&admin=true][&returnTo=/page] (admin)
        add: {
          access: 'user',
          handler: async (call) => {
            const name = needed(host, call, 'username');
            await call.accounts.add(name, needed(host, call, 'password'), { admin: call.params['admin'] === 'true' });
            return done(host, call, `user ${name} added`);
          },
        },
        // /plugin/user/password?username=U&password=NEW[&oldPassword=OLD] (an admin, or U with the old password)
        password: {
          access: 'user',
          handler: async (call) => {
            const name = call.params['username'] || call.caller.user || needed(host, call, 'username');
            await call.accounts.setPassword(name, needed(host, call, 'password'), call.params['oldPassword']);
            return done(host, call, `password of ${name} changed`);
          },
        },
        // /plugin/user/delete?username=U (admin)
        delete: {
          access: 'user',
          handler: async (call) => {
            const name = needed(host, call, 'username');
            await call.accounts.delete(name);
            return done(host, call, `user ${name} deleted`);
          },
        },
      },
    };
  },
} satisfies PluginDefinition;
