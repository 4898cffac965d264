// qr_svg.js rebuilds only the core's own QR SVG inline; anything else (a hostile server's SVG
// included) is refused, so the page falls back to an <img>, where SVG cannot run script.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDom } from './helpers.mjs';
import { inlineQr } from '../qr_svg.js';

const url = (svg) => 'data:image/svg+xml;base64,' + Buffer.from(svg).toString('base64');
const LOGO = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
// What qrlogin-core's qr.rs writes (Grid::svg), with and without the logo.
const CORE = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 33 33" width="33" height="33" shape-rendering="crispEdges">'
  + '<rect width="33" height="33" fill="#ffffff"/><path fill="#000000" d="M4 4h7v1h-7zM4 5h1v1h-1z"/>';
const CORE_LOGO = CORE + `<circle cx="16.5" cy="16.5" r="3.250" fill="#ffffff" shape-rendering="geometricPrecision"/>`
  + `<image x="14.000" y="14.000" width="5.000" height="5.000" href="${LOGO}"/>`;

test('the core\'s QR is rebuilt inline, logo included, with nothing added', () => {
  const doc = makeDom().window.document;
  for (const svg of [CORE + '</svg>', CORE_LOGO + '</svg>']) {
    const el = inlineQr(doc, url(svg));
    assert.ok(el, svg);
    assert.equal(el.getAttribute('viewBox'), '0 0 33 33');
    assert.equal(el.querySelector('path').getAttribute('d'), 'M4 4h7v1h-7zM4 5h1v1h-1z');
    assert.equal(el.querySelector('rect').getAttribute('fill'), '#ffffff');
  }
  const logo = inlineQr(doc, url(CORE_LOGO + '</svg>'));
  assert.equal(logo.querySelector('image').getAttribute('href'), LOGO);
  assert.equal(logo.children.length, 4);
});

test('a hostile or foreign SVG is not inlined', () => {
  const doc = makeDom().window.document;
  const hostile = [
    CORE + '<script>alert(1)</script></svg>',
    CORE.replace('<rect ', '<rect onload="alert(1)" ') + '</svg>',
    CORE + '<foreignObject width="9" height="9"><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(1)"/></foreignObject></svg>',
    CORE + '<image x="0" y="0" width="9" height="9" href="https://evil.example/track.png"/></svg>',
    CORE + '<image x="0" y="0" width="9" height="9" href="javascript:alert(1)"/></svg>',
    CORE + '<a href="https://evil.example"><path d="M0 0h1v1z"/></a></svg>',
    CORE.replace('fill="#000000"', 'fill="url(https://evil.example/#x)"') + '</svg>',
    CORE.replace('fill="#000000"', 'style="fill:red"') + '</svg>',
    CORE.replace('shape-rendering="crispEdges">', 'shape-rendering="crispEdges" onload="alert(1)">') + '</svg>',
    CORE.replace('viewBox="0 0 33 33"', 'viewBox="0 0 33 40"') + '</svg>',
    CORE, // not well-formed: no </svg>
    '<html xmlns="http://www.w3.org/1999/xhtml"><body>hi</body></html>',
  ];
  for (const svg of hostile) assert.equal(inlineQr(doc, url(svg)), null, svg);
  for (const src of [null, 42, 'data:image/png;base64,AAAA', 'data:image/svg+xml,<svg/>', 'data:image/svg+xml;base64,%%%']) {
    assert.equal(inlineQr(doc, src), null, String(src));
  }
});
