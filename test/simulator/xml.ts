/**
 * A strict little XML reader for checking the simulator's SVG: balanced tags, quoted attributes,
 * no duplicate attributes, only known entities, one root. Throws on anything else.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlElement[];
}

const ENTITY = /&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(text: string, where: number): string {
  const stray = text.replace(ENTITY, '');
  if (/[<&]/.test(stray)) throw new Error(`unescaped markup character in text at ${where}`);
  return text.replace(
    ENTITY,
    (e) => ({ '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" })[e] ?? '?',
  );
}

export function parseXml(source: string): XmlElement {
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>/y;
  const attrRe = /\s+([\w:.-]+)\s*=\s*"([^"]*)"/g;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const prolog = /^<\?xml[^?]*\?>\s*/.exec(source);
  if (prolog) i = prolog[0].length;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const text = source.slice(i, lt === -1 ? source.length : lt);
    if (text.trim()) {
      if (!stack.length) throw new Error(`text outside the root element at ${i}`);
      stack[stack.length - 1]!.text += checkText(text, i);
    }
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(source);
    if (!m) throw new Error(`malformed tag at ${lt}: ${source.slice(lt, lt + 40)}`);
    const [, closing, name, attrText, selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (!open || open.name !== name)
        throw new Error(`</${name}> at ${lt} does not close <${open?.name ?? 'nothing'}>`);
    } else {
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(attrRe)) {
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]} at ${lt}`);
        attrs[a[1]!] = checkText(a[2]!, lt);
      }
      const el: XmlElement = { name: name!, attrs, text: '', children: [] };
      if (stack.length) stack[stack.length - 1]!.children.push(el);
      else if (root) throw new Error(`second root element at ${lt}`);
      else root = el;
      if (!selfClosing) stack.push(el);
    }
    i = tag.lastIndex;
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

export function allElements(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(allElements)];
}
