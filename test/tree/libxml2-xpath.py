"""libxml2's XPath 1.0 (through Debian's python3-lxml) for test/tree/xpath-libxml2.test.ts.

One long-lived process: each line on stdin is a JSON job, {"xml", "namespaces", "contexts", "expressions"},
and each answer one JSON line, {"results": [[answer for each context] for each expression]}. An answer is
{"nodes": [path, ...]}, {"number": n}, {"string": s}, {"boolean": b} or {"error": message}. A node is
named by its path from the document: the 1-based index of each node among its parent's children (texts
counted), "/@{uri}local" for an attribute, "/" for the document; a context is such a path to an element.
"""
import json
import math
import sys

from lxml import etree


def paths_of(root):
    """The path of every element and text of the tree; texts keyed by (element, 'text' or 'tail')."""
    paths = {}
    stack = [(root, "/1")]
    while stack:
        element, path = stack.pop()
        paths[element] = path
        index = 0
        if element.text is not None:
            index += 1
            paths[(element, "text")] = f"{path}/{index}"
        for child in element:
            index += 1
            stack.append((child, f"{path}/{index}"))
            if child.tail is not None:
                index += 1
                paths[(child, "tail")] = f"{path}/{index}"
    return paths


def path_of(node, paths):
    if isinstance(node, etree._Element):
        return paths[node]
    if isinstance(node, tuple):
        return "namespace node"  # the namespace axis: not compared (the evaluator does not model it)
    parent = node.getparent()
    if node.is_attribute:
        return f"{paths[parent]}/@{node.attrname}"  # {uri}local for a namespaced one
    if node.is_text:
        return paths[(parent, "text")]
    if node.is_tail:
        return paths[(parent, "tail")]
    raise ValueError(f"a node lxml cannot place: {node!r}")


def number(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 and math.copysign(1, value) < 0:
        return "-0"
    return value


def answer(evaluate, expression, paths):
    try:
        value = evaluate(expression)
    except etree.XPathError as err:
        return {"error": str(err)}
    if isinstance(value, list):
        nodes = [path_of(n, paths) for n in value]
        # lxml leaves the document node out of a node-set; it is the one node without a parent, and comes first.
        if evaluate(f"count(({expression})[not(..)])") == 1:
            nodes.insert(0, "/")
        return {"nodes": nodes}
    if isinstance(value, bool):
        return {"boolean": value}
    if isinstance(value, float):
        return {"number": number(value)}
    return {"string": str(value)}


def run(job):
    root = etree.fromstring(job["xml"].encode("utf-8"))
    paths = paths_of(root)
    by_path = {path: node for node, path in paths.items() if isinstance(node, etree._Element)}
    evaluators = []
    for context in job["contexts"]:
        element = by_path[context]
        evaluator = etree.XPathElementEvaluator(element, namespaces=job["namespaces"], smart_strings=True)
        evaluators.append(lambda expression, e=evaluator, node=element: e(expression, originalContext=node))
    return [[answer(evaluate, expression, paths) for evaluate in evaluators] for expression in job["expressions"]]


def main():
    for line in sys.stdin:
        try:
            reply = {"results": run(json.loads(line))}
        except Exception as err:  # a job this helper cannot run: said, not fatal
            reply = {"failed": f"{type(err).__name__}: {err}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
