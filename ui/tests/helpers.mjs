// Test harness: index.html in a JSDOM, a fake window.__TAURI__ whose invoke records every call and
// whose Channel lets a test push LoginEvents, then the real app modules on top.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';

globalThis.__QRLOGIN_MANUAL_START__ = true;

const HTML = readFileSync(fileURLToPath(new URL('../index.html', import.meta.url)), 'utf8');

export const APP_INFO = {
  version: '0.1.0',
  lang: 'en',
  kiosk: { enabled: false, idleSignOutSecs: 60, warnSecs: 10 },
  server: { embedded: true, lan: false, url: 'http://127.0.0.1:4000', dialect: 'g3' },
  demo: true,
};

/** A fresh page. The module <script> is not run: tests start the app themselves. */
export function makeDom() {
  const dom = new JSDOM(HTML, { url: 'http://localhost/', pretendToBeVisual: true });
  return dom;
}

/**
 * Installs a fake shell on `dom.window`. `responses` maps a command name to a function of its args
 * (or a value); a thrown error becomes a rejection, like the real IPC.
 */
export function installFakeTauri(dom, responses = {}) {
  const calls = [];
  const channels = [];
  class Channel {
    constructor() {
      this.onmessage = null;
      channels.push(this);
    }
  }
  const table = { app_info: APP_INFO, restore_session: null, ...responses };
  const listeners = new Map(); // Tauri event name -> handlers (window.__TAURI__.event.listen)
  dom.window.__TAURI__ = {
    event: {
      async listen(name, handler) {
        if (!listeners.has(name)) listeners.set(name, new Set());
        listeners.get(name).add(handler);
        return () => listeners.get(name).delete(handler);
      },
    },
    core: {
      Channel,
      async invoke(cmd, args) {
        calls.push({ cmd, args });
        const r = table[cmd];
        return typeof r === 'function' ? r(args) : r;
      },
    },
  };
  globalThis.window = dom.window; // bridge.js looks up window.__TAURI__ at call time
  return {
    calls,
    channels,
    names: () => calls.map((c) => c.cmd),
    count: (cmd) => calls.filter((c) => c.cmd === cmd).length,
    /** Emits a Tauri event (`app.emit` in the shell) to the page's listeners. */
    emit(name, payload) {
      for (const h of listeners.get(name) ?? []) h({ event: name, payload });
    },
    /** Delivers an event on the newest channel, as the shell would. */
    push(event, data) {
      const ch = channels.at(-1);
      if (!ch?.onmessage) throw new Error('no channel to push on');
      ch.onmessage({ event, data });
    },
  };
}

/** Lets pending promise chains (awaited IPC calls) settle. */
export async function settle(turns = 5) {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** Waits until `ready()` holds (at most `ms`): rAF and timers are late on a loaded machine. */
export async function until(ready, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

const running = [];

/** Stops every app booted by this file: their tickers would otherwise keep node alive. */
export function disposeAll() {
  for (const { app, dom } of running.splice(0)) {
    app.dispose();
    dom.window.close();
  }
}

/** Boots the real app on a fresh page with a fake shell. */
export async function bootApp(responses = {}, { appInfo, reload } = {}, beforeStart = () => {}) {
  const dom = makeDom();
  const fake = installFakeTauri(dom, appInfo ? { app_info: appInfo, ...responses } : responses);
  beforeStart(fake);
  const { startApp } = await import('../app.js');
  const app = startApp(dom.window.document, reload ? { reload } : {});
  running.push({ app, dom });
  await app.ready;
  await settle();
  const doc = dom.window.document;
  return { dom, doc, fake, app, $: (id) => doc.getElementById(id) };
}

/** True when the element and all its ancestors are rendered (no `hidden` on the way up). */
export function isShown(el) {
  for (let e = el; e; e = e.parentElement) if (e.hidden) return false;
  return true;
}

// Tiny valid data URLs: what the core sends, in shape.
export const SVG_1 = 'data:image/svg+xml;base64,' + Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29"><path d="M4 4h7v7H4z"/></svg>').toString('base64');
export const SVG_2 = 'data:image/svg+xml;base64,' + Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29"><path d="M18 4h7v7h-7z"/></svg>').toString('base64');
export const PNG_1 = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

export function qrReady(overrides = {}) {
  return {
    svg: SVG_1,
    png: PNG_1,
    text: 'http://192.168.1.20:4000/s/abc123',
    expiresAt: Date.now() + 120_000,
    ttlMs: 120_000,
    checkCode: null,
    generation: 1,
    tipHtml: 'Scan with the <strong>app</strong>',
    ...overrides,
  };
}

export const PROFILE = {
  id: 'u1',
  username: 'alice',
  nickname: 'Alice Liddell',
  email: 'alice@example.com',
  phone: '+86 138 0000 0000',
  avatar: null,
  expiresAt: Date.UTC(2030, 0, 2, 3, 4),
};
