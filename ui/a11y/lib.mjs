// Shared by the accessibility tier: Debian's Chromium through playwright-core, axe-core injected
// into a page, the pass/fail policy and a readable list of what failed, plus the checks axe does
// not make (non-text contrast of focus rings and frames, visible focus, tab order).

import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TARGET_DIR = path.resolve(ROOT, process.env.CARGO_TARGET_DIR ?? 'target');
/** Screenshots of every checked state (light mode) land here; A11Y_SCREENSHOTS=DIR copies a set. */
export const OUT_DIR = path.join(TARGET_DIR, 'a11y');
export const DOCS_SHOTS = process.env.A11Y_SCREENSHOTS ? path.resolve(ROOT, process.env.A11Y_SCREENSHOTS) : null;

/** Fails the tier whatever axe's impact says: the issue's own findings. */
const ALWAYS_FAIL_RULES = new Set(['region', 'color-contrast', 'aria-dialog-name', 'landmark-one-main']);
const FAIL_IMPACTS = new Set(['serious', 'critical']);

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('no Chromium found: run scripts/install-deps.sh (Debian package "chromium") or set $CHROMIUM');
  return found;
}

export async function launchBrowser() {
  mkdirSync(OUT_DIR, { recursive: true });
  if (DOCS_SHOTS) mkdirSync(DOCS_SHOTS, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}

/**
 * Runs axe-core on the page as it is now. page.evaluate goes through the DevTools protocol, so
 * the phone page's strict Content-Security-Policy (script-src 'self') does not block it.
 */
export async function runAxe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160), summary: n.failureSummary })),
    }));
  });
}

/** The violations that fail the tier, and the rest (reported, not failing). */
export function triage(violations) {
  const failing = violations.filter((v) => FAIL_IMPACTS.has(v.impact) || ALWAYS_FAIL_RULES.has(v.id));
  const notes = violations.filter((v) => !failing.includes(v));
  return { failing, notes };
}

/** "where: [serious] color-contrast: Elements must meet ... \n    #tip  Fix any of: ..." */
export function formatViolations(where, violations) {
  return violations.map((v) => {
    const nodes = v.nodes.map((n) => `    ${n.target}  ${n.html}\n      ${String(n.summary ?? '').replace(/\n/g, '\n      ')}`).join('\n');
    return `${where}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
  }).join('\n');
}

/**
 * Collects axe results over many states and fails once at the end with every finding, so one run
 * shows the whole list rather than the first broken state.
 */
export class Findings {
  constructor() { this.failing = []; this.notes = []; this.checked = 0; }
  async check(page, where) {
    // axe takes a transparent page for white: in dark mode a page that leaves its background to
    // the browser (a dark canvas) would pass with grey text that is unreadable on it.
    const opaque = await page.evaluate(() => [document.documentElement, document.body]
      .some((e) => /^rgb\(|rgba\([^)]*,\s*1\)$/.test(getComputedStyle(e).backgroundColor)));
    if (!opaque) this.fail(where, 'neither html nor body has an opaque background: axe would check the text against white, not the dark canvas');
    const { failing, notes } = triage(await runAxe(page));
    this.checked++;
    if (failing.length) this.failing.push(formatViolations(where, failing));
    if (notes.length) this.notes.push(formatViolations(where, notes));
  }
  /** Records a failure found by our own checks (focus, contrast of non-text parts). */
  fail(where, message) { this.failing.push(`${where}: ${message}`); }
  report() {
    if (this.notes.length) console.log(`axe notes (moderate/minor, not failing):\n${this.notes.join('\n')}`);
    return this.failing.length ? `${this.failing.length} failing finding(s) over ${this.checked} axe runs:\n${this.failing.join('\n')}` : '';
  }
}

/** Waits until every finite animation and transition on the page has finished (the end state). */
export async function settleAnimations(page) {
  await page.evaluate(async () => {
    const finite = document.getAnimations().filter((a) => {
      const t = a.effect?.getComputedTiming?.();
      return t && Number.isFinite(t.endTime);
    });
    await Promise.all(finite.map((a) => a.finished.catch(() => {})));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
}

/**
 * In the page: contrast of the focus ring of the focused element (or of `ring`, for a switch whose
 * ring is drawn on its track) against the background it sits on (its parent's, or `bg` for a
 * button laid over a sibling such as the QR tile), and whether it is visible at all.
 */
export async function focusRing(page, { ring = null, bg = null } = {}) {
  await installHelpers(page);
  return page.evaluate(([ringSel, bgSel]) => {
    const { effectiveBackground, contrast, parseColor } = window.__a11y;
    const active = document.activeElement;
    const ringEl = ringSel ? document.querySelector(ringSel) : active;
    const cs = getComputedStyle(ringEl);
    const bg = effectiveBackground(bgSel ? document.querySelector(bgSel) : ringEl.parentElement);
    return {
      id: active?.id || active?.getAttribute('data-code') || active?.getAttribute('name')
        || (active?.type === 'submit' ? 'submit' : active?.tagName),
      focusVisible: active?.matches(':focus-visible') ?? false,
      style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) || 0,
      ratio: contrast(parseColor(cs.outlineColor), bg),
    };
  }, [ring, bg]);
}

/** In the page: contrast of an element's border colour against its parent's background. */
export async function borderContrast(page, selector) {
  await installHelpers(page);
  return page.evaluate((sel) => {
    const { effectiveBackground, contrast, parseColor } = window.__a11y;
    const el = document.querySelector(sel);
    return contrast(parseColor(getComputedStyle(el).borderTopColor), effectiveBackground(el.parentElement));
  }, selector);
}

/** In the page: contrast of two elements' background colours (a tile on a card). */
export async function backgroundContrast(page, selector, onSelector) {
  await installHelpers(page);
  return page.evaluate(([a, b]) => {
    const { effectiveBackground, contrast } = window.__a11y;
    return contrast(effectiveBackground(document.querySelector(a)), effectiveBackground(document.querySelector(b)));
  }, [selector, onSelector]);
}

async function installHelpers(page) {
  if (!(await page.evaluate(() => Boolean(window.__a11y)))) await page.evaluate(PAGE_HELPERS);
}

// Plain functions evaluated inside the page (sRGB, WCAG 2 relative luminance), as one expression.
const PAGE_HELPERS = `(() => {
function parseColor(s) {
  const m = String(s).match(/rgba?\\(([^)]+)\\)/);
  if (!m) return [0, 0, 0, 0];
  const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function effectiveBackground(el) {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = parseColor(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  let out;
  if (layers.length && layers[layers.length - 1][3] >= 1) out = layers.pop().slice(0, 3);
  else out = matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18] : [255, 255, 255];
  for (const c of layers.reverse()) out = out.map((v, i) => v * (1 - c[3]) + c[i] * c[3]);
  return out;
}
function luminance([r, g, b]) {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return Math.round(((x + 0.05) / (y + 0.05)) * 100) / 100;
}
window.__a11y = { parseColor, effectiveBackground, contrast };
})()`;

/**
 * Presses Tab from the top of the page until focus leaves the page (or comes round again) and
 * returns the name (id, data-code, name, "submit" or tag) of each element that got focus,
 * checking each one's focus ring on the way.
 */
export async function tabCycle(page, findings, where, ringFor = {}, max = 40) {
  // A click on the bare page corner moves the sequential focus starting point to the top (a
  // blur() alone leaves it at the element that had focus).
  await page.mouse.click(1, 1);
  const order = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement === document.body || !document.hasFocus())) break;
    const ring = await focusRing(page);
    if (ring.id === order[0]) break;
    const custom = ringFor[ring.id] ? await focusRing(page, ringFor[ring.id]) : ring;
    order.push(ring.id);
    if (!ring.focusVisible) findings.fail(where, `#${ring.id} got focus by Tab but is not :focus-visible`);
    if (custom.style === 'auto') findings.fail(where, `#${ring.id} has no focus ring of its own (outline: auto, the browser's default, whose contrast nobody checks)`);
    else if (custom.style === 'none' || custom.width < 2) findings.fail(where, `#${ring.id} has no visible focus ring (outline ${custom.style} ${custom.width}px)`);
    else if (custom.ratio < 3) findings.fail(where, `#${ring.id}'s focus ring contrast is ${custom.ratio}:1, below 3:1`);
  }
  return order;
}

/**
 * The actions named in `expected` come in that order in the tab cycle, each exactly once. Other
 * focusable elements may sit between them (another screen's new button still gets its ring
 * checked by tabCycle), so the check stays about the actions this tier knows.
 */
export function assertTabOrder(cycle, expected, where) {
  const known = cycle.filter((id) => expected.includes(id));
  assert.deepEqual(known, expected, `${where}: tab order ${JSON.stringify(cycle)}`);
}

/** Saves a light-mode screenshot under target/a11y/, and into $A11Y_SCREENSHOTS when asked. */
export async function screenshot(page, name, { docs = false } = {}) {
  await page.screenshot({ path: path.join(OUT_DIR, `${name}.png`) });
  if (docs && DOCS_SHOTS) await page.screenshot({ path: path.join(DOCS_SHOTS, `a11y-${name}.png`) });
}
