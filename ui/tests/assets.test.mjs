// The app serves only the files tauri.conf.json lists in build.frontendDist: a module the page
// imports but the list lacks is answered with index.html, and the page never starts (WebKit:
// "'text/html' is not a valid JavaScript MIME type"). Every file index.html loads, and every
// module those import, must be listed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const conf = JSON.parse(readFileSync(path.join(UI, '..', 'src-tauri', 'tauri.conf.json'), 'utf8'));

test('every file the page loads is in tauri.conf.json build.frontendDist', () => {
  const listed = new Set(conf.build.frontendDist.map((f) => path.basename(f)));
  const html = readFileSync(path.join(UI, 'index.html'), 'utf8');
  const wanted = new Set(['index.html']);
  for (const m of html.matchAll(/(?:src|href)="([^":]+\.(?:js|css))"/g)) wanted.add(m[1]);
  // Follow the static imports from each module.
  const queue = [...wanted].filter((f) => f.endsWith('.js'));
  while (queue.length) {
    const file = queue.pop();
    const text = readFileSync(path.join(UI, file), 'utf8');
    for (const m of text.matchAll(/^import[^'"]*['"]\.\/([^'"]+)['"]/gm)) {
      if (!wanted.has(m[1])) {
        wanted.add(m[1]);
        queue.push(m[1]);
      }
    }
  }
  const missing = [...wanted].filter((f) => !listed.has(f));
  assert.deepEqual(missing, [], `not served by the app: ${missing.join(', ')}`);
  assert.ok(wanted.has('qr_svg.js') && wanted.has('bridge.js'), 'the import graph was followed');
});
