/**
 * Igor's `copytree` plugin: copies what one place holds to another, each a path in the tree (/data/…) or an
 * http(s) URL. `/plugin/copytree?src=&dst=[&mimetype=text/plain][&method=PUT]`, as in Igor; answers where the
 * copy went. The tree is read and written with the caller's rights (the call's tree access), so nobody copies
 * what they may not read, nor to where they may not write; URLs are fetched for the caller (call.http), so only
 * an admin's copy reaches addresses on this machine or the home network.
 */
import type { Json, PluginCall, PluginDefinition, PluginHost } from 'igor-ts/plugin-api';

const TYPES = new Set(['text/plain', 'application/json', 'application/xml']);

function isUrl(where: string): boolean {
  return /^https?:\/\//i.test(where);
}

function treePath(host: PluginHost, where: string, what: string): string {
  if (!where.startsWith('/data/')) host.fail(400, `${what}=${where}: a path in the tree (/data/…) or an http(s) URL`);
  return where;
}

/** What src holds: a string for text/plain, else the JSON form of the element (or the service's JSON answer). */
async function read(host: PluginHost, call: PluginCall, src: string, mimetype: string): Promise<Json> {
  if (isUrl(src)) {
    const res = await call.http(src, { headers: { Accept: mimetype } });
    if (res.status !== 200) host.fail(502, `src answered ${res.status}`);
    if (mimetype !== 'application/json') return res.body;
    try {
      return JSON.parse(res.body) as Json;
    } catch {
      host.fail(502, 'src did not answer JSON');
    }
  }
  const value = call.data.get(treePath(host, src, 'src'));
  if (value === undefined) host.fail(404, `nothing at ${src}`);
  if (mimetype === 'text/plain' && value !== null && typeof value === 'object') {
    host.fail(400, `${src} holds more than text; copy it with mimetype=application/json`);
  }
  return mimetype === 'text/plain' && value !== null ? String(value) : value;
}

async function write(host: PluginHost, call: PluginCall, dst: string, value: Json, mimetype: string, method: string): Promise<string> {
  if (isUrl(dst)) {
    const body = typeof value === 'string' && mimetype !== 'application/json' ? value : JSON.stringify(value);
    const res = await call.http(dst, {
      method,
      headers: { 'Content-Type': mimetype === 'application/xml' && typeof value !== 'string' ? 'application/json' : mimetype },
      body,
    });
    if (res.status < 200 || res.status >= 300) host.fail(502, `dst answered ${res.status}`);
    return dst;
  }
  const path = treePath(host, dst, 'dst');
  return method === 'PUT' ? call.data.put(path, value) : call.data.post(path, value);
}

export default {
  description: "Copies a subtree or value to another place in the tree or to a URL (Igor's copytree)",
  // A general tool: for each caller, anywhere that caller may read and write, and nowhere else.
  forCallers: ['/data'],
  create(host) {
    return {
      methods: {
        index: {
          access: 'user',
          handler: async (call) => {
            const src = call.params['src'] ?? '';
            const dst = call.params['dst'] ?? '';
            if (!src || !dst) host.fail(400, 'copytree needs src= and dst=');
            const mimetype = call.params['mimetype'] || 'text/plain';
            if (!TYPES.has(mimetype)) host.fail(400, `mimetype=${mimetype}: one of ${[...TYPES].join(', ')}`);
            const method = (call.params['method'] || 'PUT').toUpperCase();
            if (method !== 'PUT' && method !== 'POST') host.fail(400, `method=${method}: PUT (replace) or POST (append)`);
            return `${await write(host, call, dst, await read(host, call, src, mimetype), mimetype, method)}\n`;
          },
        },
      },
    };
  },
} satisfies PluginDefinition;
