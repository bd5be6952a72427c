/**
 * Whose requests to other servers are held to public addresses (http/outbound.ts): everyone's but an admin's and
 * the server's own. A plugin acting for a caller, and a plugin's own actions, are not admins: what they fetch for
 * someone cannot reach the home network or this machine unless an admin allows the host (--allow-hosts).
 */
import type { Config } from '../config.ts';
import type { OutboundPolicy } from '../http/outbound.ts';
import { isAdmin, type Principal } from './principal.ts';

const policies = new WeakMap<Config, OutboundPolicy>();

/** The server's outbound policy: public addresses, and the hosts --allow-hosts lists (everything with --dev). */
export function outboundPolicy(config: Config): OutboundPolicy {
  let policy = policies.get(config);
  if (!policy) policies.set(config, (policy = Object.freeze({ allowHosts: config.allowHosts, dev: config.dev })));
  return policy;
}

/** The outbound policy a request made for `p` follows, or undefined when it may go anywhere. */
export function outboundPolicyFor(p: Principal, config: Config): OutboundPolicy | undefined {
  return isAdmin(p) ? undefined : outboundPolicy(config);
}
