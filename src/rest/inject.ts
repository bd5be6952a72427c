/**
 * Calling this server's own routes in-process, as actions do with local URLs: the request goes through the
 * same request listener as one from the network (so the same checks apply), without a socket.
 */
import type inject from 'light-my-request';
import type { RequestListener } from 'node:http';
import { INTERNAL_HEADER, internalCredential } from '../auth/authenticate.ts';
import type { LocalCaller } from '../localCall.ts';

/** Characters a URL cannot carry as they are; `%` is left alone, templates have already encoded values. */
const UNSAFE = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/g;

/**
 * light-my-request collects the answer through its own write/end, inherited from its Response class. Express
 * swaps a response's prototype for its own when it takes a request, so an answer written after a tick (our
 * listener reaches express only after /data's async check) went to node's write/end and was lost: errors
 * of in-process calls arrived without their body. Pinning them to the instance keeps them whatever the prototype.
 */
function pinned(handler: RequestListener): RequestListener {
  return (req, res) => {
    for (const method of ['write', 'end', 'writeHead'] as const)
      Object.defineProperty(res, method, { value: res[method], writable: true, configurable: true });
    handler(req, res);
  };
}

/**
 * `internalSecret` proves to authenticate() that the call comes from inside this process. The listener is asked
 * for at each call, so that the services that call (actions, event sources) can be made before it exists.
 */
export function localCaller(listener: () => RequestListener, internalSecret: string): LocalCaller {
  return async ({ method, url, headers, body, as }) => {
    const { default: inject } = await import('light-my-request'); // with the first call, not at start-up
    // Without a callback inject() answers a thenable chain; light-my-request 6.6's types do not say so.
    const res = await (inject(pinned(listener()), {
      method: method as NonNullable<inject.InjectOptions['method']>,
      url: url.replace(UNSAFE, (c) => encodeURIComponent(c)),
      headers: { ...headers, host: 'localhost', [INTERNAL_HEADER]: internalCredential(internalSecret, as) },
      payload: body,
      remoteAddress: '127.0.0.1',
    }) as unknown as Promise<inject.Response>);
    return { status: res.statusCode, body: res.payload };
  };
}
