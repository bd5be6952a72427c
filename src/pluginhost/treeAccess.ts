/**
 * The tree as a plugin sees it (plugin-api TreeAccess): reads and writes checked against the plugin's
 * principal like a REST request's, without the HTTP round trip. A plugin reads secrets where it may write
 * (its own client_secret, its users' tokens), nowhere else.
 */
import { authoriseMutation, checkNoHiddenData, checkWritePath } from '../auth/policy.ts';
import type { QuotaLimits } from '../auth/quotas.ts';
import type { Principal } from '../auth/principal.ts';
import { viewOf, visibilityFor, writeOptions } from '../auth/visibility.ts';
import { BadRequestError } from '../errors.ts';
import type { TreeAccess, TreeChange } from '../plugin-api.ts';
import type { Database } from '../store/database.ts';
import { ELEMENT_NODE } from '../tree/dom.ts';
import { refOf } from '../tree/refs.ts';
import { textOf } from '../tree/text.ts';
import { elementFromJson, jsonOf, scalarOf, type Json } from '../tree/jsonxml.ts';
import { absolutePath, splitLastStep } from '../tree/paths.ts';
import { plainNames } from '../tree/simplePath.ts';
import { combine, type Mutation, type Tree } from '../tree/tree.ts';

/** The tree for `p`; `limits`: the quotas its writes are held to (a plugin acting for a caller: the caller's). */
export function treeAccess(db: Database, p: Principal, limits?: QuotaLimits): TreeAccess {
  const reading = visibilityFor(p, 'plugin');
  const valueOf = (n: Node): Json => {
    if (n.nodeType !== ELEMENT_NODE) return scalarOf(textOf(n, reading.show));
    return jsonOf(n as Element, reading.show);
  };
  const readable = (xpath: string): Node[] => db.tree.select(absolutePath(xpath), db.tree.doc, { view: viewOf(reading) });
  const element = (xpath: string, value: Json): Element => {
    const el = elementFromJson(db.tree.doc, splitLastStep(absolutePath(xpath)).tag, value);
    checkNoHiddenData(p, el);
    return el;
  };
  const apply = (t: Tree, change: TreeChange, el: Element | undefined): Mutation => {
    const path = absolutePath(change.xpath);
    const writing = writeOptions(p, path);
    checkWritePath(p, plainNames(path), change.op, path);
    if (change.op === 'delete') return authoriseMutation(p, 'DELETE', t.delete(path, writing), limits);
    return authoriseMutation(
      p,
      change.op === 'put' ? 'PUT' : 'POST',
      change.op === 'put' ? t.put(path, el!, writing) : t.post(path, el!, writing),
      limits,
    );
  };
  const one = async (change: TreeChange): Promise<string> => {
    const el = change.op === 'delete' ? undefined : element(change.xpath, change.value);
    return (await db.write((t) => apply(t, change, el))).ref;
  };
  return {
    get(xpath) {
      const nodes = readable(xpath);
      if (nodes.length > 1) throw new BadRequestError(`${xpath} selects ${nodes.length} nodes; use getAll`);
      return nodes[0] && valueOf(nodes[0]);
    },
    getAll: (xpath) => readable(xpath).map(valueOf),
    refs: (xpath) => readable(xpath).map((n) => refOf(n)),
    put: (xpath, value) => one({ op: 'put', xpath, value }),
    post: (xpath, value) => one({ op: 'post', xpath, value }),
    async delete(xpath) {
      await one({ op: 'delete', xpath });
    },
    async batch(changes) {
      if (changes.length === 0) return;
      const elements = changes.map((c) => (c.op === 'delete' ? undefined : element(c.xpath, c.value)));
      await db.write((t) => {
        const done: Mutation[] = [];
        try {
          changes.forEach((c, i) => done.push(apply(t, c, elements[i])));
        } catch (err) {
          combine(done).undo();
          throw err;
        }
        return combine(done);
      });
    },
  };
}
