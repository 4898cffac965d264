// Wiring: talks to the shell through bridge.js, folds LoginEvents into the view (render.js) and
// owns everything with time in it: the countdown tick, the retry countdown, the kiosk idle timer.

import * as realBridge from './bridge.js';
import { normalizeLang, t, LANGS } from './i18n.js';
import {
  initialView, applyEvent, applyConfigReload, profileView, render, applyChrome,
  finishCrossFade, clearPreviousQr,
} from './render.js';

const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'touchstart', 'wheel'];

/** performance.now() when this module started: the first start-up mark of the page. */
const SCRIPT_STARTED = globalThis.performance?.now?.() ?? 0;

/**
 * Starts the app on `doc`. `bridge` defaults to the real one; tests and the preview page pass the
 * same module after installing a fake window.__TAURI__. Returns a handle for tests.
 */
export function startApp(doc, { bridge = realBridge, reload = () => doc.defaultView.location.reload() } = {}) {
  const win = doc.defaultView;
  const $ = (id) => doc.getElementById(id);
  let view = initialView(normalizeLang(win?.navigator?.language));
  let info = null;
  let loginSeq = 0; // events from an older channel (a restarted login) are ignored
  // Start-up marks (ms on the page's clock), reported after the first QR paint when a benchmark
  // asks (info.paintLog): make bench's breakdown of what happens between page load and paint.
  const clock = () => win?.performance?.now?.() ?? 0;
  const marks = { script: SCRIPT_STARTED, boot: clock() };
  const mark = (what) => { if (!(what in marks)) marks[what] = clock(); };
  let tick = null;
  const kiosk = { enabled: false, idleMs: 0, warnMs: 0, idleTimer: null, warnTimer: null, deadline: 0,
    returnFocus: null };

  // One-shot timers, remembered so dispose() can cancel them.
  const pending = new Set();
  function later(fn, ms) {
    const id = setTimeout(() => { pending.delete(id); fn(); }, ms);
    pending.add(id);
  }

  function update(next) {
    const wasState = view.state;
    const retryWasHidden = $('retry').hidden;
    view = next;
    render(doc, view);
    syncTicker();
    syncKiosk(wasState);
    focusPrimaryAction(wasState, retryWasHidden);
  }

  // ---- login ---------------------------------------------------------------------------------

  /** Starts a fresh attempt. Older channels keep their callbacks but are muted by `seq`. */
  async function beginLogin(notice = null) {
    const seq = ++loginSeq;
    update({ ...initialView(view.lang), notice, configNotice: view.configNotice });
    try {
      await bridge.startLogin((event) => {
        if (seq === loginSeq) onEvent(event);
      });
    } catch (err) {
      if (seq !== loginSeq) return;
      // The shell refused to start (config error, …): show it like a failed attempt, with a retry.
      update(applyEvent(view, { event: 'failed', data: {
        kind: err?.kind ?? 'config', message: err?.message ?? String(err), retryable: true, tipHtml: '', retryTipHtml: '' } }));
    }
  }

  function onEvent(event) {
    if (event?.event === 'qrReady') mark('qr-event');
    update(applyEvent(view, event));
    if (event?.event === 'qrReady') mark('qr-rendered');
    if (event?.event === 'loggedIn') painted('profile');
  }

  /**
   * Tells the shell something was painted (rAF runs before paint, the timeout right after it);
   * the event listeners start then, behind the paint report (see boot).
   */
  function painted(what) {
    const raf = win?.requestAnimationFrame?.bind(win) ?? ((fn) => setTimeout(fn, 16));
    raf(() => later(() => {
      bridge.uiPainted(what).catch(() => {});
      listen();
      if (what === 'qr') reportMarks();
    }, 0));
  }

  /** Starts listening to the shell's events, once; resolves when every listener is in place. */
  let listening = null;
  function listen() {
    listening ??= Promise.all([
      bridge.onSessionEnded?.(onSessionEnded)?.catch(() => {}),
      bridge.onSessionRefreshed?.(onSessionRefreshed)?.catch(() => {}),
      bridge.onRevocationDelivered?.(onRevocationDelivered)?.catch(() => {}),
      bridge.onConfigReloaded?.(onConfigReloaded)?.catch(() => {}),
    ]);
    return listening;
  }

  let marksReported = false;
  function reportMarks() {
    if (marksReported || !info?.paintLog || !bridge.uiMark) return;
    marksReported = true;
    const now = clock();
    // The navigation's start (0 on this clock), then the page's own steps.
    for (const [what, at] of [['nav', 0], ...Object.entries(marks)]) {
      bridge.uiMark(what, Math.max(0, now - at)).catch(() => {});
    }
  }

  // ---- timers: QR countdown and "retrying in N s" ---------------------------------------------

  function syncTicker() {
    const needed = (view.state === 'waiting' && view.qr) || view.retrying;
    if (needed && !tick) {
      tick = setInterval(() => {
        render(doc, view); // moves the ring and the retry note; idempotent, so cheap
        if (!((view.state === 'waiting' && view.qr) || view.retrying)) syncTicker();
      }, 1000);
    } else if (!needed && tick) {
      clearInterval(tick);
      tick = null;
    }
  }

  // ---- kiosk idle sign-out --------------------------------------------------------------------

  function syncKiosk(wasState) {
    if (!kiosk.enabled) return;
    if (view.state === 'profile' && wasState !== 'profile') resetIdle();
    if (view.state !== 'profile') stopIdle();
  }

  function stopIdle() {
    clearTimeout(kiosk.idleTimer);
    clearInterval(kiosk.warnTimer);
    kiosk.idleTimer = kiosk.warnTimer = null;
    const wasShown = !$('kiosk-warning').hidden;
    $('kiosk-warning').hidden = true;
    if (wasShown) giveFocusBack();
  }

  /** The warning closed: focus returns where it was, if that is still on screen. */
  function giveFocusBack() {
    const back = kiosk.returnFocus;
    kiosk.returnFocus = null;
    if (back?.isConnected && !back.closest('[hidden]')) back.focus();
    else if (view.state === 'profile') $('profile-nickname').focus();
  }

  /** Any activity while signed in: hide the warning and start the idle period again. */
  function resetIdle() {
    stopIdle();
    if (!kiosk.enabled || view.state !== 'profile') return;
    kiosk.idleTimer = setTimeout(showKioskWarning, Math.max(0, kiosk.idleMs - kiosk.warnMs));
  }

  function showKioskWarning() {
    kiosk.deadline = Date.now() + kiosk.warnMs;
    kiosk.returnFocus = doc.activeElement === doc.body ? null : doc.activeElement;
    kiosk.warnTimer = setInterval(updateKioskCountdown, 1000);
    updateKioskCountdown(); // the sentence first: it is the dialog's name, read when focus lands
    $('kiosk-warning').hidden = false;
    // An alert dialog announces itself when it takes focus (once); the seconds then tick silently.
    $('kiosk-dialog').focus();
  }

  function updateKioskCountdown() {
    if (kiosk.warnTimer === null) return; // a tick already queued when the warning was dismissed
    const left = Math.max(0, Math.ceil((kiosk.deadline - Date.now()) / 1000));
    $('kiosk-countdown').textContent = String(left);
    $('kiosk-warning-text').textContent = t(view.lang, 'kioskWarning', { n: left });
    if (left <= 0) {
      stopIdle();
      doSignOut('idle');
    }
  }

  function onActivity() {
    if (kiosk.enabled && view.state === 'profile') resetIdle();
  }

  // ---- actions --------------------------------------------------------------------------------

  /** What the QR screen says after a sign-out, by what the server did (bridge.signOut). */
  const SIGN_OUT_NOTICE = { revoked: 'signedOut', pending: 'signedOutPending', localOnly: 'signedOutLocal' };

  async function doSignOut(reason = 'button') {
    let notice = null;
    let freshPage = false;
    try {
      const result = await bridge.signOut(reason);
      notice = SIGN_OUT_NOTICE[result?.server] ?? null;
      freshPage = Boolean(result?.freshPage);
    } catch {
      // The shell forgets the session locally even if the server is unreachable; go on.
    }
    if (freshPage) {
      // A kiosk: the next person gets a page that never showed this one's profile (no DOM, no
      // decoded avatar, nothing in this page's JavaScript heap). The new page starts the login
      // and says how the sign-out went (app_info.signedOut).
      update({ ...initialView(view.lang), notice });
      reload();
      return;
    }
    await beginLogin(notice);
  }

  /** A config file was edited: new tips show at once; a refused edit says why. */
  function onConfigReloaded(payload) {
    update(applyConfigReload(view, payload));
  }

  /** The server was told of a sign-out it missed: the notice says it is done now. */
  function onRevocationDelivered() {
    if (view.notice === 'signedOutPending') update({ ...view, notice: 'signedOut' });
  }

  /** A background refresh: the profile's "session expires" moves on. */
  function onSessionRefreshed(payload) {
    const expiresAt = Number(payload?.expiresAt);
    if (view.state === 'profile' && Number.isFinite(expiresAt) && expiresAt > 0) {
      update({ ...view, profile: { ...view.profile, expiresAt } });
    }
  }

  /** The server ended the session: back to the QR, saying so (also when it arrives mid-boot). */
  function onSessionEnded() {
    if (view.state === 'profile') beginLogin('sessionEnded');
    else update({ ...view, notice: 'sessionEnded' });
  }

  async function copyLink() {
    const text = view.qr?.text ?? '';
    const btn = $('copy-link');
    try {
      await bridge.copyText(text);
      btn.textContent = t(view.lang, 'copied');
      $('status').textContent = t(view.lang, 'copied');
      later(() => { btn.textContent = t(view.lang, 'copyLink'); }, 2000);
    } catch {
      // The shell could not reach the clipboard (no display clipboard, say): select the text so
      // Ctrl+C still does it.
      selectText($('link-text'));
      $('status').textContent = t(view.lang, 'copyManually');
    }
  }

  function selectText(el) {
    el.focus(); // first: focusing can collapse an existing selection
    const range = doc.createRange();
    range.selectNodeContents(el);
    const sel = win.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function toggleLinkPanel() {
    const panel = $('link-panel');
    panel.hidden = !panel.hidden;
    $('cant-scan').setAttribute('aria-expanded', String(!panel.hidden));
  }

  async function changeLang(lang) {
    const next = normalizeLang(lang);
    try {
      await bridge.setLang(next);
    } catch {
      // The chrome still switches; tips follow on the next attempt the shell accepts.
    }
    view = { ...view, lang: next };
    applyChrome(doc, next);
    render(doc, view);
    // Tips come from Rust in the attempt's language: a new attempt brings them in the new one.
    if (view.state !== 'profile') await beginLogin();
  }

  async function showDemo() {
    const creds = $('demo-creds');
    if (!creds.hidden) {
      creds.hidden = true;
      $('demo-show').setAttribute('aria-expanded', 'false');
      return;
    }
    try {
      const { username, password } = await bridge.demoCredentials();
      $('demo-username').textContent = String(username ?? '');
      $('demo-password').textContent = String(password ?? '');
      creds.hidden = false;
      $('demo-show').setAttribute('aria-expanded', 'true');
    } catch (err) {
      $('status').textContent = err?.message ?? String(err);
    }
  }

  async function toggleLan(enabled) {
    const box = $('lan-toggle');
    box.disabled = true;
    try {
      const next = await bridge.setLan(enabled);
      if (next) applyInfo(next);
      await beginLogin(); // the QR must carry the new address
    } catch (err) {
      box.checked = !enabled; // the switch shows what is true, not what was asked
      $('status').textContent = err?.message ?? String(err);
    } finally {
      box.disabled = false;
    }
  }

  /**
   * Moves focus to the action that just appeared (retry, or the profile heading) when the element
   * that had focus went away, so a keyboard user can press Enter without hunting for it.
   */
  function focusPrimaryAction(wasState, retryWasHidden) {
    const active = doc.activeElement;
    const lost = !active || active === doc.body || Boolean(active.closest?.('[hidden]'));
    if (!lost) return;
    if (retryWasHidden && !$('retry').hidden) $('retry').focus();
    else if (view.state === 'profile' && wasState !== 'profile') $('profile-nickname').focus();
  }

  // ---- start-up -------------------------------------------------------------------------------

  function applyInfo(next) {
    info = next ?? {};
    const isKiosk = Boolean(info.kiosk?.enabled);
    doc.body.classList.toggle('kiosk', isKiosk);
    kiosk.enabled = isKiosk;
    kiosk.idleMs = Math.max(1, Number(info.kiosk?.idleSignOutSecs) || 120) * 1000;
    kiosk.warnMs = Math.min(kiosk.idleMs, Math.max(1, Number(info.kiosk?.warnSecs) || 15) * 1000);
    $('demo-area').hidden = !info.demo || isKiosk;
    $('lan-area').hidden = !info.server?.embedded || isKiosk;
    $('lan-toggle').checked = Boolean(info.server?.lan);
    // An RFC 8628 QR is a web address any phone camera opens; the other dialects' codes are read
    // by the signed-in app's own scanner. applyChrome translates the keys chosen here.
    const wording = info.server?.dialect === 'device' ? 'Device' : '';
    for (const li of doc.querySelectorAll('#steps li[data-step]')) li.dataset.i18n = `step${li.dataset.step}${wording}`;
    $('cant-scan-words').dataset.i18n = `cantScanWords${wording}`;
  }

  function wire() {
    $('retry').addEventListener('click', () => beginLogin());
    $('sign-out').addEventListener('click', () => doSignOut('button'));
    $('cant-scan').addEventListener('click', toggleLinkPanel);
    $('copy-link').addEventListener('click', copyLink);
    $('lang').addEventListener('change', (e) => changeLang(e.target.value));
    $('demo-show').addEventListener('click', showDemo);
    $('lan-toggle').addEventListener('change', (e) => toggleLan(e.target.checked));
    $('qr').addEventListener('qrshown', () => {
      mark('qr-shown');
      finishCrossFade(doc);
      // transitionend never comes if the webview skips the transition (hidden window): make sure
      // the old code cannot stay on top of the new one.
      later(() => clearPreviousQr(doc), 600);
      painted('qr');
    });
    $('qr-prev').addEventListener('transitionend', () => clearPreviousQr(doc));
    for (const type of ACTIVITY_EVENTS) doc.addEventListener(type, onActivity, { capture: true, passive: true });
  }

  async function boot() {
    wire();
    // The first attempt's channel goes with the first question: with nothing remembered the
    // shell hands it the QR it made while this page loaded, in the same round trip.
    const seq = ++loginSeq;
    mark('ask');
    const asked = bridge.appInfo((event) => {
      if (seq === loginSeq) onEvent(event);
    });
    try {
      applyInfo(await asked);
      mark('answered');
    } catch {
      applyInfo({});
    }
    const lang = LANGS.includes(info.lang) ? info.lang : normalizeLang(info.lang ?? view.lang);
    // This page was reloaded by a kiosk sign-out: it says what that sign-out did at the server.
    const notice = SIGN_OUT_NOTICE[info.signedOut] ?? view.notice;
    view = { ...view, lang, notice };
    applyChrome(doc, lang);
    render(doc, view);

    if (info.remembered === false) {
      // Nothing to restore: the shell already started the first attempt while this page loaded;
      // its events come on the channel above (or start_login hands them over at once). The
      // listeners follow the first paint (or a second), so that their four IPC calls are not
      // ahead of the QR's.
      later(listen, 1000);
      if (!info.loginStarted) await beginLogin(view.notice);
      return;
    }
    // Restoring can end the session (`session-ended`): the listener must be in place first.
    await listen();
    // A broken remembered session is just "not signed in".
    const profile = await bridge.restoreSession().catch(() => null);
    if (profile) {
      update(profileView(view, profile));
      painted('profile');
    } else {
      await beginLogin(view.notice); // "your session ended" when restoring found it over
    }
  }

  const ready = boot();
  return {
    ready,
    get view() { return view; },
    beginLogin,
    dispose() {
      loginSeq++;
      stopIdle();
      if (tick) clearInterval(tick);
      tick = null;
      for (const id of pending) clearTimeout(id);
      pending.clear();
      for (const type of ACTIVITY_EVENTS) doc.removeEventListener(type, onActivity, { capture: true });
    },
  };
}

// In the app (and the preview page) start at once; tests import startApp and call it themselves.
if (typeof document !== 'undefined' && !globalThis.__QRLOGIN_MANUAL_START__) {
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => startApp(document), { once: true });
  } else {
    startApp(document);
  }
}
