// Just the parts of the `xpath` package (goto100/xpath) that the tests and benchmarks use as a reference engine; its own typings omit them.
declare module 'xpath' {
  export interface XObject {
    stringValue(): string;
    numberValue(): number;
    booleanValue(): boolean;
  }
  export interface XNodeSetLike extends XObject {
    toArray(): Node[];
    nodes: Node[];
    size: number;
  }
  export interface ParsedExpression {
    evaluate(options: {
      node: Node;
      namespaces?: Record<string, string>;
      functions?: (name: string, namespace?: string) => ((context: unknown, ...args: XObject[]) => unknown) | undefined;
      variables?: Record<string, unknown>;
    }): XObject;
  }
  export function parse(expression: string): ParsedExpression;
  export function select(expression: string, node: Node): unknown;
  export const XNodeSet: { prototype: Record<string, unknown> & XNodeSetLike } & (new () => XNodeSetLike);
  export const XString: new (s: string) => XObject;
  export const XNumber: new (n: number) => XObject;
  export const XBoolean: new (b: boolean) => XObject;
  export const XPathParser: {
    new (): { tokenize(s: string): [number[], string[]] };
    actionTable: string[];
    actionTableNumber: string[];
    gotoTable: string[];
    productions: number[][];
    SHIFT: string;
    REDUCE: string;
    ACCEPT: string;
  };
  const xpath: {
    parse: typeof parse;
    select: typeof select;
    XNodeSet: typeof XNodeSet;
    XString: typeof XString;
    XNumber: typeof XNumber;
    XBoolean: typeof XBoolean;
    XPathParser: typeof XPathParser;
  };
  export default xpath;
}
