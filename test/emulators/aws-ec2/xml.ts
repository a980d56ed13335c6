// The XML EC2 writes: a declaration line, then elements indented by four spaces,
// empty elements as `<name/>`. Success bodies are pretty-printed like this;
// error bodies are one line (see errors.ts).

export type XmlNode = { readonly name: string; readonly text: string } | { readonly name: string; readonly children: readonly XmlNode[] };

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** A text element; undefined values are left out, so callers can list optional fields inline. */
export function el(name: string, value: string | number | boolean | undefined): XmlNode | undefined {
  return value === undefined ? undefined : { name, text: String(value) };
}

/** A parent element; undefined children are dropped. */
export function parent(name: string, children: readonly (XmlNode | undefined)[]): XmlNode {
  return { name, children: children.filter((c): c is XmlNode => c !== undefined) };
}

/** An EC2 list: `<name><item>…</item>…</name>`, or `<name/>` when empty. */
export function list<T>(name: string, items: readonly T[], item: (x: T) => readonly (XmlNode | undefined)[]): XmlNode {
  return parent(name, items.map((x) => parent('item', item(x))));
}

/** Text content as EC2 writes it: only &, < and > are escaped (quotes stay as they are). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** `<Action>Response xmlns=…>` with requestId first, as every EC2 answer starts. */
export function responseDocument(action: string, requestId: string, body: readonly (XmlNode | undefined)[]): string {
  const root = parent(`${action}Response`, [el('requestId', requestId), ...body]);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root, 0, ` xmlns="${EC2_XMLNS}"`)}`;
}

function render(node: XmlNode, depth: number, attrs = ''): string {
  const pad = '    '.repeat(depth);
  if ('text' in node && node.text !== '') return `${pad}<${node.name}${attrs}>${escapeXml(node.text)}</${node.name}>`;
  if ('text' in node) return `${pad}<${node.name}${attrs}/>`;
  if (node.children.length === 0) return `${pad}<${node.name}${attrs}/>`;
  const inner = node.children.map((c) => render(c, depth + 1)).join('\n');
  return `${pad}<${node.name}${attrs}>\n${inner}\n${pad}</${node.name}>`;
}
