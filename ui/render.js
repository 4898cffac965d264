// Pure rendering: LoginEvents (docs/contracts.md §3) fold into a plain view object (applyEvent),
// and render(doc, view) makes the DOM show that view. No timers, no IPC, no globals: the same view
// always gives the same DOM, which is what the tests check.
//
// Safety rule: only `tipHtml` / `retryTipHtml` (sanitized by Rust) go in innerHTML. Every other
// server string goes in textContent, and images are used only when they are data:image/ URLs.

import { t } from './i18n.js';
import { inlineQr } from './qr_svg.js';

/** States that show a QR image (possibly dimmed). */
const QR_STATES = new Set(['waiting', 'scanned', 'authorized', 'cancelled', 'expired']);
const DIMMED_STATES = new Set(['scanned', 'authorized', 'cancelled', 'expired']);
const RETRY_STATES = new Set(['cancelled', 'expired', 'failed', 'retrying']);
/** States that show the problem mark and the failure detail line. */
const PROBLEM_STATES = new Set(['failed', 'retrying']);

export function initialView(lang) {
  return {
    lang,
    state: 'loading',
    qr: null, // {src, text, expiresAt, ttlMs, generation}
    checkCode: null,
    tipHtml: '',
    retryTipHtml: '',
    refreshing: false,
    showRetry: false,
    scanned: null, // {nickname, avatar}
    failure: null, // {kind, problem, message, retryable}
    retrying: null, // {attempt, until, message, background}
    profile: null,
    notice: null, // i18n key of a sentence about the last session: how the sign-out went, or that it ended
    configNotice: null, // {key, vars}: an edit of the config file was refused, or waits for a restart
  };
}

/** Which view states show the tips of which event (a `retrying` in the background keeps `failed`). */
const TIP_STATES = {
  qrReady: ['waiting'], scanned: ['scanned'], authorized: ['authorized'], loggedIn: ['profile'],
  cancelled: ['cancelled'], expired: ['expired'], failed: ['failed'], retrying: ['retrying', 'failed'],
};

/**
 * Folds the shell's `config-reloaded` into the view: edited tips replace those on screen (only if
 * the screen still shows the event they were worded for), a refused edit or keys that wait for a
 * restart become the config notice, and a clean edit clears it.
 */
export function applyConfigReload(view, payload) {
  if (!payload?.applied) {
    return { ...view, configNotice: { key: 'configRefused', vars: { error: String(payload?.error ?? '') } } };
  }
  const restart = Array.isArray(payload.restart) ? payload.restart.map(String) : [];
  const next = { ...view, configNotice: restart.length ? { key: 'configRestart', vars: { keys: restart.join(', ') } } : null };
  const tips = payload.tips;
  if (tips && (TIP_STATES[tips.event] ?? []).includes(view.state)) {
    if (typeof tips.tipHtml === 'string') next.tipHtml = tips.tipHtml;
    if (typeof tips.retryTipHtml === 'string') next.retryTipHtml = tips.retryTipHtml;
  }
  return next;
}

/** A data:image/ URL, or null: anything else (http:, javascript:, file:) is never used as a src. */
export function safeImageSrc(url) {
  if (typeof url !== 'string') return null;
  return /^data:image\//i.test(url.trim()) ? url.trim() : null;
}

/**
 * What "Can't scan?" offers (contracts.md §3 `cantScan`): {kind: 'code', code, url} | {kind: 'link'}
 * | {kind: 'words'}. An engine without the field meant the link, as before.
 */
export function cantScanOf(c) {
  if (c?.kind === 'code' && typeof c.code === 'string' && typeof c.url === 'string') {
    return { kind: 'code', code: c.code, url: c.url };
  }
  if (c?.kind === 'words') return { kind: 'words' };
  return { kind: 'link' };
}

/** The SVG scales crisply at any size; the PNG is the fallback if the SVG is missing. */
function qrSource(data) {
  return safeImageSrc(data.svg) ?? safeImageSrc(data.png);
}

/**
 * Folds one LoginEvent into the view and returns the new view. `now` (ms) turns relative delays
 * into deadlines so countdowns survive re-renders.
 */
export function applyEvent(view, event, now = Date.now()) {
  const data = event?.data ?? {};
  const base = { ...view, retrying: null };
  switch (event?.event) {
    case 'starting':
      // A new attempt: whatever QR we had belongs to the old one and must not be scanned or copied.
      return { ...base, state: 'loading', qr: null, checkCode: null, tipHtml: '', scanned: null,
        failure: null, showRetry: false, refreshing: false };
    case 'qrReady':
      return { ...base, state: 'waiting', tipHtml: data.tipHtml ?? '', checkCode: data.checkCode ?? null,
        scanned: null, failure: null, showRetry: false, refreshing: false,
        qr: { src: qrSource(data), text: String(data.text ?? ''), expiresAt: Number(data.expiresAt) || 0,
          ttlMs: Number(data.ttlMs) || 0, generation: Number(data.generation) || 1,
          cantScan: cantScanOf(data.cantScan) } };
    case 'scanned':
      return { ...base, state: 'scanned', notice: null, tipHtml: data.tipHtml ?? '',
        scanned: { nickname: String(data.nickname ?? ''), avatar: safeImageSrc(data.avatar) } };
    case 'authorized':
      return { ...base, state: 'authorized', tipHtml: data.tipHtml ?? '', showRetry: false };
    case 'loggedIn':
      return { ...base, state: 'profile', notice: null, tipHtml: data.tipHtml ?? '', profile: data.profile ?? {},
        qr: null, scanned: null, failure: null, showRetry: false };
    case 'cancelled':
    case 'expired':
      // Without `refreshing` nothing else will happen by itself, so the person needs a way out:
      // a retry button (the top complaint about QR screens is an expired code you cannot renew).
      return { ...base, state: event.event, tipHtml: data.tipHtml ?? '', retryTipHtml: data.retryTipHtml ?? '',
        refreshing: Boolean(data.refreshing), showRetry: !data.refreshing };
    case 'failed':
      return { ...base, state: 'failed', tipHtml: data.tipHtml ?? '', retryTipHtml: data.retryTipHtml ?? '',
        qr: null, scanned: null, checkCode: null, refreshing: false, showRetry: Boolean(data.retryable),
        failure: failureOf(data, Boolean(data.retryable)) };
    case 'retrying': {
      // The engine tries again by itself. Visible retries: the `retrying` view (failed tip, what
      // kind of problem, a countdown, no button). Background retries follow a `failed`: its
      // Retry button stays, with a quiet note that it keeps trying.
      const retrying = { attempt: Number(data.attempt) || 1, until: now + (Number(data.delayMs) || 0),
        message: String(data.message ?? ''), background: Boolean(data.background) };
      if (retrying.background && view.state === 'failed') return { ...view, retrying };
      return { ...base, state: 'retrying', tipHtml: data.tipHtml ?? '', retryTipHtml: data.retryTipHtml ?? '',
        qr: null, scanned: null, checkCode: null, refreshing: false, showRetry: retrying.background,
        failure: failureOf(data, true), retrying };
    }
    default:
      return view; // unknown events (a newer core) are ignored rather than breaking the screen
  }
}

function failureOf(data, retryable) {
  return { kind: String(data.kind ?? ''), problem: String(data.problem ?? ''), message: String(data.message ?? ''), retryable };
}

/** The view shown right after the shell restored a remembered session. */
export function profileView(view, profile) {
  return { ...initialView(view.lang), profile, state: 'profile' };
}

/** Whole seconds left until `deadline`, never negative. */
export function secondsLeft(deadline, now) {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

/** Up to two letters for an avatar placeholder: "Ada Lovelace" → "AL", "张三" → "张". */
export function initials(name) {
  const text = String(name ?? '').trim();
  // First letter or digit of each word; punctuation ("<", "@") makes a meaningless placeholder.
  const letters = text.split(/\s+/).map((w) => w.match(/[\p{L}\p{N}]/u)?.[0]).filter(Boolean);
  if (letters.length === 0) return Array.from(text)[0] ?? '?'; // e.g. an emoji-only name
  const first = letters[0];
  // CJK names are not split into words; one character is the convention there.
  if (letters.length === 1 || /[\u3400-\u9fff\uac00-\ud7af\u3040-\u30ff]/.test(first)) return first.toUpperCase();
  return (first + letters[letters.length - 1]).toUpperCase();
}

/** A stable hue per name so two people's placeholders are told apart at a glance. */
function hueOf(name) {
  let h = 0;
  for (const ch of String(name ?? '')) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function setText(el, text) {
  const value = String(text ?? '');
  if (el.textContent !== value) el.textContent = value;
}

function show(el, visible) {
  if (el.hidden === visible) el.hidden = !visible;
}

/** Fills an avatar frame: the image when it is a data URL, else coloured initials. */
export function renderAvatar(img, name, url) {
  const frame = img.parentElement;
  const src = safeImageSrc(url);
  const placeholder = frame.querySelector('.initials');
  if (src) {
    if (img.getAttribute('src') !== src) img.src = src;
  } else {
    img.removeAttribute('src');
  }
  show(img, Boolean(src));
  show(placeholder, !src);
  setText(placeholder, initials(name));
  frame.dataset.hue = String(hueOf(name) % 12); // CSS picks one of 12 colours; no inline style (CSP)
}

/** Translates every element marked with data-i18n / data-i18n-alt / data-i18n-aria-label. */
export function applyChrome(doc, lang) {
  doc.documentElement.lang = lang;
  for (const el of doc.querySelectorAll('[data-i18n]')) setText(el, t(lang, el.dataset.i18n));
  for (const el of doc.querySelectorAll('[data-i18n-alt]')) el.alt = t(lang, el.dataset.i18nAlt);
  for (const el of doc.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(lang, el.dataset.i18nAriaLabel));
  doc.title = t(lang, 'title');
  const select = doc.getElementById('lang');
  if (select && select.value !== lang) select.value = lang;
}

/** The sentence #status announces for a view (state changes only, never the ticking countdown). */
export function statusLine(view) {
  const { lang } = view;
  switch (view.state) {
    case 'loading': return t(lang, 'statusLoading');
    case 'waiting': return [view.notice ? t(lang, view.notice) : '',
      t(lang, view.qr?.generation > 1 ? 'statusNewCode' : 'statusWaiting')].filter(Boolean).join(' ');
    case 'scanned': return t(lang, 'statusScanned', { name: view.scanned?.nickname || t(lang, 'someone') });
    case 'authorized': return t(lang, 'statusAuthorized');
    case 'profile': return t(lang, 'statusProfile', { name: displayName(view.profile) });
    case 'cancelled': return t(lang, view.refreshing ? 'statusRefreshing' : 'statusCancelled');
    case 'expired': return t(lang, view.refreshing ? 'statusRefreshing' : 'statusExpired');
    case 'failed': return [t(lang, 'statusFailed'), view.failure?.message].filter(Boolean).join(' ');
    case 'retrying': return [t(lang, 'statusRetrying'), view.failure?.message].filter(Boolean).join(' ');
    default: return '';
  }
}

function displayName(profile) {
  return profile?.nickname || profile?.username || profile?.email || profile?.phone || '';
}

/** Formats an epoch-ms time in the UI language, e.g. "2025-11-24 15:30" / "Nov 24, 2025, 3:30 PM". */
export function formatTime(ms, lang) {
  try {
    return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

/**
 * Makes the DOM show `view`. Idempotent: only changed text is written, so screen readers are not
 * re-notified and a re-render mid-transition does not restart it.
 */
export function render(doc, view, now = Date.now()) {
  const $ = (id) => doc.getElementById(id);
  const { state, lang } = view;
  doc.body.dataset.state = state;

  const inProfile = state === 'profile';
  show($('login'), !inProfile);
  show($('profile'), inProfile);

  renderQr(doc, view);
  $('qr-box').classList.toggle('dimmed', DIMMED_STATES.has(state) && Boolean(view.qr));
  $('qr-box').classList.toggle('empty', !view.qr || !QR_STATES.has(state));
  show($('spinner'), state === 'loading' || ((state === 'cancelled' || state === 'expired') && view.refreshing));

  // Scanned: the phone's user over the dimmed code, so the person sees *who* is signing in.
  const scanned = state === 'scanned' && view.scanned;
  show($('scanned-user'), Boolean(scanned));
  if (scanned) {
    renderAvatar($('scanned-avatar'), view.scanned.nickname, view.scanned.avatar);
    setText($('scanned-name'), view.scanned.nickname ? t(lang, 'scannedBy', { name: view.scanned.nickname }) : '');
  }
  show($('success-mark'), state === 'authorized');
  show($('problem-mark'), PROBLEM_STATES.has(state) || (RETRY_STATES.has(state) && !view.refreshing && !view.qr));

  renderRetry(doc, view);
  renderTip(doc, view);
  renderCheckCode(doc, view);

  const failure = PROBLEM_STATES.has(state) ? view.failure?.message : '';
  const configNotice = view.configNotice ? t(lang, view.configNotice.key, view.configNotice.vars) : '';
  const notice = [configNotice, !inProfile && view.notice ? t(lang, view.notice) : ''].filter(Boolean).join(' ');
  setText($('notice'), notice);
  show($('notice'), Boolean(notice));

  setText($('failure-message'), failure);
  show($('failure-message'), Boolean(failure));
  renderRetryNote(doc, view, now);
  renderCountdown(doc, view, now);
  renderSteps(doc, view);

  const cantScan = view.qr?.cantScan ?? { kind: 'link' };
  const offered = state === 'waiting' && (cantScan.kind !== 'link' || Boolean(view.qr?.text));
  show($('cant-scan'), offered);
  if (!offered) collapseLinkPanel(doc);
  renderCantScan(doc, view, cantScan);

  if (inProfile) renderProfile(doc, view);
  announce($('status'), statusLine(view));
}

/**
 * The "Can't scan?" panel: the code to type and where (our server, RFC 8628), the link when the
 * QR holds a web address, or in words what to do (Authing's JSON or image-only QRs, which are no
 * use as text). All of it plain text.
 */
function renderCantScan(doc, view, cantScan) {
  const $ = (id) => doc.getElementById(id);
  const isCode = cantScan.kind === 'code';
  const isWords = cantScan.kind === 'words';
  show($('type-code-area'), isCode);
  setText($('type-code'), isCode ? cantScan.code : '');
  setText($('type-code-url'), isCode ? cantScan.url : '');
  const link = isWords ? '' : (view.qr?.text ?? '');
  show($('link-area'), Boolean(link));
  setText($('link-help'), t(view.lang, isCode ? 'linkHelpToo' : 'linkHelp'));
  setText($('link-text'), link);
  show($('cant-scan-words'), isWords);
}

/**
 * Puts a state's sentence in the live region once. render() runs every second while a code
 * counts down, and an action may have put its own message there since ("Copied"): only a new
 * state line is written, so nothing is read out twice.
 */
function announce(status, line) {
  if (announced.get(status) === line) return;
  announced.set(status, line); // not in the DOM: the line may carry a nickname
  setText(status, line);
}
const announced = new WeakMap();

/**
 * Shows view.qr in #qr: the core's QR as inline SVG (qr_svg.js: painted with the next frame), any
 * other image as an <img>. A new code that replaces a visible one cross-fades: the old drawing
 * moves to #qr-prev on top and fades out once the new one is shown. #qr dispatches `qrshown` when
 * the new code is on screen (at once for SVG, on the image's `load` otherwise; app.js listens);
 * `data-src` names the code it shows.
 */
function renderQr(doc, view) {
  const box = doc.getElementById('qr');
  const prev = doc.getElementById('qr-prev');
  const visible = Boolean(view.qr?.src) && QR_STATES.has(view.state);
  const src = view.qr?.src ?? null;
  if (src && box.dataset.src !== src) {
    const crossFade = Boolean(box.dataset.src) && !box.hidden && view.qr.generation > 1;
    if (crossFade) {
      prev.replaceChildren(...box.childNodes);
      prev.classList.remove('fading');
      prev.hidden = false;
      box.classList.remove('fade-in');
    } else {
      clearPreviousQr(doc);
      // A first code is there at once (a person is waiting to scan it); a renewed one that had
      // nothing to cross-fade from fades in.
      box.classList.toggle('fade-in', view.qr.generation > 1);
    }
    box.dataset.generation = String(view.qr.generation);
    box.dataset.src = src;
    const svg = inlineQr(doc, src);
    if (svg) {
      box.replaceChildren(svg);
      box.dispatchEvent(new doc.defaultView.Event('qrshown'));
    } else {
      const img = doc.createElement('img');
      img.alt = '';
      img.addEventListener('load', () => box.dispatchEvent(new doc.defaultView.Event('qrshown')), { once: true });
      img.addEventListener('error', () => clearPreviousQr(doc), { once: true });
      img.src = src;
      box.replaceChildren(img);
    }
  }
  if (!visible) {
    prev.hidden = true;
    if (!src) {
      box.replaceChildren();
      delete box.dataset.src;
    }
  }
  show(box, visible);
}

/** Called when the new #qr is shown: fade the previous code out over it. */
export function finishCrossFade(doc) {
  const prev = doc.getElementById('qr-prev');
  if (!prev.hidden) prev.classList.add('fading');
}

/** Called when the fade-out transition ends (or at once without transitions). */
export function clearPreviousQr(doc) {
  const prev = doc.getElementById('qr-prev');
  prev.hidden = true;
  prev.classList.remove('fading');
  prev.replaceChildren();
}

function renderRetry(doc, view) {
  const btn = doc.getElementById('retry');
  const visible = view.showRetry && RETRY_STATES.has(view.state);
  show(btn, visible);
  if (!visible) return;
  const html = view.retryTipHtml || '';
  if (html) {
    if (btn.dataset.html !== html) {
      btn.innerHTML = html; // sanitized by Rust (contracts.md §3)
      btn.dataset.html = html;
    }
  } else {
    delete btn.dataset.html;
    setText(btn, t(view.lang, 'retry'));
  }
}

function renderTip(doc, view) {
  const tip = doc.getElementById('tip');
  if (view.state === 'profile') {
    show(tip, false);
    return;
  }
  show(tip, true);
  if (view.tipHtml) {
    if (tip.dataset.html !== view.tipHtml) {
      tip.innerHTML = view.tipHtml; // sanitized by Rust (contracts.md §3)
      tip.dataset.html = view.tipHtml;
    }
  } else {
    // No tip yet (before the first event): say what is happening in our own words.
    delete tip.dataset.html;
    const own = { loading: 'statusLoading', failed: 'statusFailed', retrying: 'statusFailed' }[view.state];
    setText(tip, own ? t(view.lang, own) : '');
  }
}

/** "Check code: confirm that your phone shows 42", with the code in large bold digits. */
function renderCheckCode(doc, view) {
  const el = doc.getElementById('check-code');
  const code = view.checkCode;
  const visible = code != null && code !== '' && (view.state === 'waiting' || view.state === 'scanned');
  show(el, visible);
  if (!visible) return;
  const key = `${view.lang}|${code}`;
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  // Two digits are our check code; anything else is an RFC 8628 user code (`device` dialect).
  const userCode = !/^\d{1,3}$/.test(String(code));
  const [before, after] = t(view.lang, userCode ? 'userCode' : 'checkCode').split('{code}');
  const strong = doc.createElement('strong');
  strong.className = 'code';
  strong.textContent = String(code);
  el.replaceChildren(doc.createTextNode(before ?? ''), strong, doc.createTextNode(after ?? ''));
}

function renderRetryNote(doc, view, now) {
  const el = doc.getElementById('retry-note');
  const r = view.retrying;
  const visible = Boolean(r) && view.state !== 'profile';
  show(el, visible);
  if (!visible) return;
  const key = r.background ? 'retryingQuietly' : 'retryingIn';
  setText(el, t(view.lang, key, { n: secondsLeft(r.until, now), k: r.attempt }));
}

/**
 * The countdown ring under the QR: the arc shrinks as the code ages. Driven from expiresAt by JS
 * each second (not a CSS animation), so it stays right after sleep or a slow first paint.
 */
export function renderCountdown(doc, view, now = Date.now()) {
  const box = doc.getElementById('countdown');
  const qr = view.qr;
  const visible = view.state === 'waiting' && Boolean(qr?.expiresAt);
  show(box, visible);
  if (!visible) return;
  const left = secondsLeft(qr.expiresAt, now);
  const ttl = Math.max(1, qr.ttlMs || (qr.expiresAt - now));
  const fraction = Math.min(1, Math.max(0, (qr.expiresAt - now) / ttl));
  const ring = doc.getElementById('countdown-ring');
  const circumference = 2 * Math.PI * 9;
  ring.setAttribute('stroke-dasharray', circumference.toFixed(2));
  ring.setAttribute('stroke-dashoffset', (circumference * (1 - fraction)).toFixed(2));
  box.classList.toggle('low', left <= 10);
  box.dataset.remaining = String(left);
  setText(doc.getElementById('countdown-text'), t(view.lang, 'expiresIn', { n: left }));
}

/** Marks where the person is in the three steps: scanning (1–2) or confirming on the phone (3). */
function renderSteps(doc, view) {
  const current = view.state === 'scanned' ? '3' : view.state === 'waiting' ? '1' : '';
  for (const li of doc.querySelectorAll('#steps li')) {
    const done = view.state === 'authorized' || (current === '3' && li.dataset.step !== '3');
    li.classList.toggle('done', done);
    if (li.dataset.step === current) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  }
  // Always there in the sign-in view (as in Telegram): the card keeps its height between states.
  show(doc.getElementById('steps'), view.state !== 'profile');
}

function collapseLinkPanel(doc) {
  const panel = doc.getElementById('link-panel');
  if (!panel.hidden) panel.hidden = true;
  doc.getElementById('cant-scan').setAttribute('aria-expanded', 'false');
}

function renderProfile(doc, view) {
  const $ = (id) => doc.getElementById(id);
  const p = view.profile ?? {};
  const name = displayName(p);
  renderAvatar($('profile-avatar'), name, p.avatar);
  setText($('profile-nickname'), name);
  for (const field of ['username', 'email', 'phone']) {
    const value = p[field] ? String(p[field]) : '';
    setText($(`profile-${field}`), value);
    show($(`profile-${field}-row`), Boolean(value));
  }
  const expires = Number(p.expiresAt) > 0 ? t(view.lang, 'sessionExpires', { time: formatTime(Number(p.expiresAt), view.lang) }) : '';
  setText($('profile-expires'), expires);
  show($('profile-expires'), Boolean(expires));
}
