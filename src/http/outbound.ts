/**
 * Where the server may send a request it makes for someone else: a plugin's caller (copytree's src and dst), a
 * plugin's own actions, a callback URL a client registered. Only http and https, and only to public addresses:
 * never loopback, link-local (cloud metadata at 169.254.169.254), private, carrier-grade NAT, multicast or other
 * special ranges, IPv4 embedded in IPv6 included — unless an admin lists the host with --allow-hosts (names,
 * addresses or CIDR ranges), or the server runs with --dev. The address is checked when the connection is made,
 * on what the name resolved to then, so a name that resolves to a public address once and a private one later
 * (DNS rebinding) gets nowhere. Redirects are never followed (http/client.ts), so none can lead elsewhere.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ForbiddenError } from '../errors.ts';
import { redactUrls } from './redact.ts';

export interface OutboundPolicy {
  /** Host names, addresses and CIDR ranges (`192.168.1.0/24`) an admin allows besides public addresses. */
  readonly allowHosts: readonly string[];
  /** --dev: every address is allowed. */
  readonly dev: boolean;
}

/** The error code a refused address carries through the socket layer, so http/client.ts can tell it apart. */
export const REFUSED_ADDRESS = 'EIGOR_REFUSED_ADDRESS';

function refused(url: string, why: string): ForbiddenError {
  return new ForbiddenError(
    `${redactUrls(url)}: ${why}; requests made for someone go to public addresses only (an admin may allow a host with --allow-hosts)`,
    'forbidden_destination',
  );
}

/** Why `address` may not be reached under `policy`, or undefined when it may. */
export function addressProblem(address: string, policy: OutboundPolicy): string | undefined {
  if (policy.dev) return undefined;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return `${address} is not an address`;
  }
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  if (allowedRange(parsed, policy.allowHosts)) return undefined;
  return `${parsed.toString()} is a ${range} address`;
}

function allowedRange(address: ipaddr.IPv4 | ipaddr.IPv6, allowHosts: readonly string[]): boolean {
  return allowHosts.some((entry) => {
    try {
      if (entry.includes('/')) {
        const [range, bits] = ipaddr.parseCIDR(entry);
        return range.kind() === address.kind() && address.match(range, bits);
      }
      return isIP(entry) !== 0 && ipaddr.process(entry).toString() === address.toString();
    } catch {
      return false;
    }
  });
}

/**
 * Checks what can be checked before connecting (scheme, a literal address, an allowed name) and answers the
 * `lookup` the connection must use for a name, which refuses what the name resolves to if it is not allowed.
 * Undefined `lookup`: nothing to check at connect time (a literal address, an allowed name, --dev).
 */
export function checkDestination(url: string, policy: OutboundPolicy): { lookup?: LookupFunction } {
  const parsed = URL.parse?.(url) ?? null;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw refused(url, 'only http and https URLs');
  if (policy.dev) return {};
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (policy.allowHosts.includes(host.toLowerCase())) return {};
  if (isIP(host)) {
    const problem = addressProblem(host, policy);
    if (problem) throw refused(url, problem);
    return {};
  }
  return { lookup: checkedLookup(policy) };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that fails, with REFUSED_ADDRESS, when any address the name resolves to may not be reached. */
function checkedLookup(policy: OutboundPolicy): LookupFunction {
  const lookup = (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const problem = addresses.map((a) => addressProblem(a.address, policy)).find(Boolean);
      if (problem) return callback(Object.assign(new Error(`${hostname}: ${problem}`), { code: REFUSED_ADDRESS }), []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  return lookup as LookupFunction;
}

/** The 403 for a connection that the lookup refused. */
export function refusedConnection(url: string, cause: { message?: string }): ForbiddenError {
  return refused(url, cause.message ?? 'not a public address');
}
