// The desktop window's accessibility, in Chromium at the window's size (460x800): axe-core over
// every state of the preview harness (ui/tests/preview.html) in light and dark and in both
// languages, then the keyboard: tab order, visible focus rings, each action operated by key, the
// kiosk warning's dialog focus, and reduced motion.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ROOT, launchBrowser, Findings, settleAnimations, tabCycle, assertTabOrder, borderContrast, backgroundContrast, screenshot,
} from './lib.mjs';

const VIEWPORT = { width: 460, height: 800 };
const LANGS = ['en', 'zh-CN'];
const SCHEMES = ['light', 'dark'];
// Scenarios that replay a story over seconds (not a state of their own).
const NOT_A_STATE = new Set(['story']);
// States reached by a click after the replay, and what shows they are ready.
const EXTRA = [
  { name: 'waiting-link', state: 'waiting', query: 'link=1', ready: '#link-panel:not([hidden])' },
  { name: 'waiting-demo', state: 'waiting', query: 'demo=1', ready: '#demo-creds:not([hidden])' },
  { name: 'profile-initials', state: 'profile', query: 'avatar=0' },
];
const READY = { 'kiosk-warning': '#kiosk-warning:not([hidden])' };
// Light-mode screenshots kept in docs/screenshots/ (A11Y_SCREENSHOTS=docs/screenshots).
const DOCS = new Set(['waiting', 'check-code', 'scanned', 'authorized', 'profile', 'cancelled', 'expired',
  'failed', 'kiosk-warning', 'waiting-link']);

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.png': 'image/png' };

let server;
let base;
let browser;

/** Serves ui/ read-only on 127.0.0.1 (the harness loads ../index.html with a synchronous XHR). */
function serveUi() {
  const root = path.join(ROOT, 'ui');
  const srv = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root + path.sep)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

before(async () => {
  server = await serveUi();
  base = `http://127.0.0.1:${server.address().port}/tests/preview.html`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function newPage(scheme = 'light', extra = {}) {
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: scheme, ...extra });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  return context.newPage();
}

/** Opens one preview state and waits until its replay is on screen and motion has ended. */
async function openState(page, scenario, { lang = 'en', query = '', ready = null } = {}) {
  await page.goto(`${base}?state=${scenario}&lang=${lang}${query ? `&${query}` : ''}`);
  await page.waitForFunction((s) => document.documentElement.dataset.replayed === s, scenario);
  const sel = ready ?? READY[scenario];
  if (sel) await page.waitForSelector(sel, { state: 'attached' });
  await settleAnimations(page);
}

async function scenarios() {
  const page = await newPage();
  await openState(page, 'loading');
  const list = await page.evaluate(() => window.__previewScenarios);
  await page.context().close();
  return list.filter((s) => !NOT_A_STATE.has(s));
}

test('axe: every preview state, light and dark, zh-CN and en, at 460x800', async () => {
  const states = [...(await scenarios()).map((s) => ({ name: s, state: s })), ...EXTRA];
  const findings = new Findings();
  for (const scheme of SCHEMES) {
    const page = await newPage(scheme);
    for (const lang of LANGS) {
      for (const s of states) {
        await openState(page, s.state, { lang, query: s.query, ready: s.ready });
        await findings.check(page, `preview ${s.name} ${lang} ${scheme}`);
        if (scheme === 'light') {
          await screenshot(page, `preview-${s.name}-${lang}`, { docs: lang === 'en' && DOCS.has(s.name) });
          if (s.name === 'waiting' && lang === 'zh-CN') await screenshot(page, 'preview-waiting-zh-CN', { docs: true });
        }
      }
    }
    await page.context().close();
  }
  console.log(`preview: ${findings.checked} axe runs over ${states.length} states`);
  const report = findings.report();
  if (report) assert.fail(report);
});

test('the QR frame, the language picker and the LAN switch stand out 3:1 from the card', async () => {
  for (const scheme of SCHEMES) {
    const page = await newPage(scheme);
    await openState(page, 'waiting');
    // The tile is white in both schemes: on the dark card the tile itself is the frame.
    const frame = Math.max(await borderContrast(page, '.qr-tile'), await backgroundContrast(page, '.qr-tile', '.card'));
    assert.ok(frame >= 3, `${scheme}: the QR frame is ${frame}:1 on the card`);
    const select = await borderContrast(page, '#lang');
    assert.ok(select >= 3, `${scheme}: language picker border ${select}:1`);
    const track = await backgroundContrast(page, '.switch-track', '.card');
    assert.ok(track >= 3, `${scheme}: LAN switch (off) track ${track}:1`);
    await page.context().close();
  }
});

test('keyboard: tab order and a visible focus ring on every action, in both schemes', async () => {
  const findings = new Findings();
  // The switch draws its ring on the track; Retry sits over the white QR tile in every scheme.
  const ringFor = { 'lan-toggle': { ring: '#lan-area .switch-track' }, retry: { bg: '.qr-tile' } };
  for (const scheme of SCHEMES) {
    const page = await newPage(scheme);
    const where = (s) => `tab order ${s} ${scheme}`;

    await openState(page, 'waiting');
    assertTabOrder(await tabCycle(page, findings, where('waiting'), ringFor), ['lang', 'cant-scan', 'demo-show', 'lan-toggle'], where('waiting'));

    await openState(page, 'waiting', { query: 'link=1', ready: '#link-panel:not([hidden])' });
    assertTabOrder(await tabCycle(page, findings, where('waiting, link open'), ringFor),
      ['lang', 'cant-scan', 'link-text', 'copy-link', 'demo-show', 'lan-toggle'], where('waiting, link open'));

    await openState(page, 'expired');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'retry', 'focus goes to Retry when it appears');
    assertTabOrder(await tabCycle(page, findings, where('expired'), ringFor), ['lang', 'retry', 'demo-show', 'lan-toggle'], where('expired'));

    await openState(page, 'failed');
    assertTabOrder(await tabCycle(page, findings, where('failed'), ringFor), ['lang', 'retry', 'demo-show', 'lan-toggle'], where('failed'));

    await openState(page, 'profile');
    assertTabOrder(await tabCycle(page, findings, where('profile'), ringFor), ['lang', 'sign-out'], where('profile'));
    await page.context().close();
  }
  const report = findings.report();
  if (report) assert.fail(report);
});

test('keyboard: every action works from the keyboard alone', async () => {
  const page = await newPage();
  const state = () => page.evaluate(() => document.body.dataset.state);
  const focus = (id) => page.focus(`#${id}`);

  await openState(page, 'waiting');
  await focus('cant-scan');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#cant-scan', 'aria-expanded'), 'true', "Enter on Can't scan? opens the link");
  assert.equal(await page.isVisible('#link-panel'), true);
  await focus('copy-link');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Copied|Ctrl\+C/.test(document.getElementById('status').textContent));

  await focus('demo-show');
  await page.keyboard.press('Space');
  await page.waitForSelector('#demo-creds:not([hidden])');

  await focus('lan-toggle');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.getElementById('lan-toggle').checked);

  await focus('lang');
  await page.keyboard.press('ArrowUp'); // en → 中文 on a closed <select>
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  assert.equal(await page.textContent('#title'), '手机扫码登录');

  await openState(page, 'expired');
  await page.keyboard.press('Enter'); // focus is on Retry already
  await page.waitForFunction(() => document.body.dataset.state === 'waiting');

  await openState(page, 'profile');
  await focus('sign-out');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.body.dataset.state !== 'profile');
  assert.notEqual(await state(), 'profile');
  await page.context().close();
});

test('kiosk warning: an alertdialog that takes focus and gives it back', async () => {
  const page = await newPage();
  await openState(page, 'kiosk-warning'); // the warning is up (1 s after sign-in in this state)
  // Stay, with Sign out focused, in one task: the next warning comes a full second later.
  await page.evaluate(() => {
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Shift', bubbles: true }));
    document.getElementById('sign-out').focus();
  });
  await page.waitForSelector('#kiosk-warning', { state: 'hidden' });
  await page.waitForSelector('#kiosk-warning:not([hidden])');
  const dialog = await page.evaluate(() => {
    const d = document.querySelector('[role="alertdialog"]');
    const label = document.getElementById(d?.getAttribute('aria-labelledby') ?? '');
    return { visible: Boolean(d && d.offsetParent !== null), modal: d?.getAttribute('aria-modal'),
      label: label?.textContent ?? '', focusInside: Boolean(d?.contains(document.activeElement)) };
  });
  assert.ok(dialog.visible, 'a visible role="alertdialog"');
  assert.equal(dialog.modal, 'true');
  assert.match(dialog.label, /Signing out in \d+ s/);
  assert.ok(dialog.focusInside, 'focus moves into the warning');
  await page.keyboard.press('Shift'); // any key is "I am still here"
  await page.waitForSelector('#kiosk-warning', { state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sign-out', 'focus goes back where it was');
  await page.context().close();
});

test('prefers-reduced-motion: animations shrink to nothing, the spinner slows down', async () => {
  const durations = async (motion) => {
    const page = await newPage('light', { reducedMotion: motion });
    await openState(page, 'loading');
    const spinner = await page.evaluate(() => getComputedStyle(document.getElementById('spinner')).animationDuration);
    await openState(page, 'profile');
    const profile = await page.evaluate(() => getComputedStyle(document.getElementById('profile')).animationDuration);
    await page.context().close();
    return { spinner, profile };
  };
  assert.deepEqual(await durations('reduce'), { spinner: '2.4s', profile: '0.001s' });
  assert.deepEqual(await durations('no-preference'), { spinner: '0.9s', profile: '0.26s' });
});
