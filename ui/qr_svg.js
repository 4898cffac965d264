// The QR as inline SVG. An <img> with an SVG data URL is a second document to WebKit: the URL is
// decoded off the main thread, the image gets a page of its own, and its `load` comes a few frames
// later; inline SVG is painted with the next frame. Only the core's own QR (qrlogin-core qr.rs: a
// light square, one dark path of module runs, and for a branded code a disc and a PNG logo) is
// rebuilt here, element by element from values checked against strict patterns, so nothing a
// server sends can become markup or script; anything else is left to an <img>.

const SVG_NS = 'http://www.w3.org/2000/svg';
const PREFIX = 'data:image/svg+xml;base64,';
const MAX_LENGTH = 256 * 1024;

const NUMBER = /^\d{1,4}(\.\d{1,6})?$/;
const COLOUR = /^#[0-9a-fA-F]{3,8}$/;
const PATH = /^[MHVZhvz0-9 .-]*$/;
const PNG = /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/;
const RENDERING = /^(crispEdges|geometricPrecision)$/;

/** What each element may carry, and the pattern each value must match. */
const ALLOWED = {
  rect: { width: NUMBER, height: NUMBER, fill: COLOUR },
  path: { fill: COLOUR, d: PATH },
  circle: { cx: NUMBER, cy: NUMBER, r: NUMBER, fill: COLOUR, 'shape-rendering': RENDERING },
  image: { x: NUMBER, y: NUMBER, width: NUMBER, height: NUMBER, href: PNG },
};

/**
 * An <svg> element of `doc` drawing the QR in `src`, or null when `src` is not the core's QR SVG
 * (another image type, other elements or attributes, a value out of pattern, a parse error).
 */
export function inlineQr(doc, src) {
  const parsed = parse(doc, src);
  if (!parsed) return null;
  const view = parsed.getAttribute('viewBox') ?? '';
  const m = /^0 0 (\d{1,4}) (\d{1,4})$/.exec(view);
  if (!m || m[1] !== m[2]) return null;
  const svg = doc.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', view);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const el of parsed.children) {
    const name = el.localName;
    const allowed = ALLOWED[name];
    if (!allowed || el.namespaceURI !== SVG_NS || el.children.length) return null;
    const copy = doc.createElementNS(SVG_NS, name);
    for (const attr of el.attributes) {
      const pattern = allowed[attr.name];
      if (!pattern || !pattern.test(attr.value)) return null;
      copy.setAttribute(attr.name, attr.value);
    }
    svg.appendChild(copy);
  }
  return svg.children.length ? svg : null;
}

function parse(doc, src) {
  if (typeof src !== 'string' || !src.startsWith(PREFIX) || src.length > MAX_LENGTH) return null;
  const Parser = doc.defaultView?.DOMParser;
  const decode = doc.defaultView?.atob;
  if (!Parser || !decode) return null;
  let text;
  try {
    text = decode(src.slice(PREFIX.length));
  } catch {
    return null;
  }
  const root = new Parser().parseFromString(text, 'image/svg+xml').documentElement;
  if (!root || root.localName !== 'svg' || root.namespaceURI !== SVG_NS) return null;
  for (const attr of root.attributes) {
    if (!['xmlns', 'viewBox', 'width', 'height', 'shape-rendering'].includes(attr.name)) return null;
  }
  return root;
}
