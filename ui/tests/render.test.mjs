// render.js: each LoginEvent gives the right body[data-state], texts and visible elements, and no
// server string can become markup.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDom, isShown, qrReady, PROFILE, SVG_1, SVG_2, PNG_1 } from './helpers.mjs';
import { initialView, applyEvent, render, applyChrome, safeImageSrc, initials, statusLine } from '../render.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

/** Folds events into a view and renders it on a fresh page. */
function show(events, { lang = 'en', now = Date.now(), dom = makeDom() } = {}) {
  const doc = dom.window.document;
  applyChrome(doc, lang);
  let view = initialView(lang);
  for (const [event, data] of events) view = applyEvent(view, { event, data }, now);
  render(doc, view, now);
  return { doc, view, dom, $: (id) => doc.getElementById(id) };
}

test('before any event: loading state with a spinner and no QR', () => {
  const { doc, $ } = show([]);
  assert.equal(doc.body.dataset.state, 'loading');
  assert.ok(isShown($('spinner')));
  assert.ok(!isShown($('qr')));
  assert.ok(!isShown($('retry')));
  assert.equal($('tip').textContent, 'Getting a sign-in code…');
  assert.equal($('status').getAttribute('aria-live'), 'polite');
  assert.equal($('status').textContent, 'Getting a sign-in code…');
});

test('starting shows the spinner where the QR goes', () => {
  const { doc, $ } = show([['qrReady', qrReady()], ['starting', { attempt: 2 }]]);
  assert.equal(doc.body.dataset.state, 'loading');
  assert.ok(isShown($('spinner')));
  assert.ok(!isShown($('qr')), 'the old attempt’s QR must not stay scannable');
  assert.ok(!isShown($('cant-scan')));
});

test('qrReady shows the SVG QR with alt text, tip markup, countdown and steps', () => {
  const now = Date.now();
  const { doc, $ } = show([['qrReady', qrReady({ expiresAt: now + 90_000, ttlMs: 120_000 })]], { now });
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.ok(isShown($('qr')));
  assert.equal($('qr').dataset.src, SVG_1);
  assert.equal($('qr').querySelector('svg path').getAttribute('d'), 'M4 4h7v7H4z', 'drawn inline');
  assert.equal($('qr').getAttribute('aria-label'), "QR code to sign in. Can't scan? Use the link below.");
  assert.ok(!isShown($('spinner')));
  assert.ok(!$('qr-box').classList.contains('dimmed'));
  // Allowed markup from Rust renders as markup.
  const strong = $('tip').querySelector('strong');
  assert.ok(strong, 'tipHtml <strong> must render as an element');
  assert.equal(strong.textContent, 'app');
  assert.equal($('tip').textContent, 'Scan with the app');
  // Countdown ring: 90 of 120 s left → a quarter of the circle is gone.
  assert.ok(isShown($('countdown')));
  assert.equal($('countdown-text').textContent, 'Expires in 90 s');
  const ring = $('countdown-ring');
  const c = Number(ring.getAttribute('stroke-dasharray'));
  const off = Number(ring.getAttribute('stroke-dashoffset'));
  assert.ok(Math.abs(off / c - 0.25) < 0.01, `offset ${off} of ${c}`);
  assert.ok(isShown($('steps')));
  assert.equal($('steps').querySelectorAll('li').length, 3);
  assert.equal($('steps').querySelector('[aria-current="step"]').dataset.step, '1');
  assert.ok(isShown($('cant-scan')));
  assert.equal($('link-text').textContent, 'http://192.168.1.20:4000/s/abc123');
  assert.ok(!isShown($('check-code')));
  assert.ok(!isShown($('retry')));
});

test('the PNG is used when the SVG is missing, and nothing when neither is a data:image URL', () => {
  let r = show([['qrReady', qrReady({ svg: null })]]);
  assert.equal(r.$('qr').querySelector('img').getAttribute('src'), PNG_1);
  r = show([['qrReady', qrReady({ svg: 'https://evil.example/qr.svg', png: 'javascript:alert(1)' })]]);
  assert.equal(r.$('qr').dataset.src, undefined);
  assert.equal(r.$('qr').children.length, 0);
  assert.ok(!isShown(r.$('qr')));
});

test('the check code is shown in bold inside the translated sentence', () => {
  const { $ } = show([['qrReady', qrReady({ checkCode: '42' })]]);
  assert.ok(isShown($('check-code')));
  assert.equal($('check-code').textContent, 'Check code: confirm that your phone shows 42');
  assert.equal($('check-code').querySelector('strong').textContent, '42');
  const zh = show([['qrReady', qrReady({ checkCode: '07' })]], { lang: 'zh-CN' });
  assert.equal(zh.$('check-code').textContent, '校验码：请确认手机上显示的是 07');
});

test('a device-flow user code takes the place of the check code, with words that fit it', () => {
  const { $ } = show([['qrReady', qrReady({ checkCode: 'WDJB-MJHT' })]]);
  assert.ok(isShown($('check-code')));
  assert.equal($('check-code').querySelector('strong').textContent, 'WDJB-MJHT');
  assert.match($('check-code').textContent, /^Code: WDJB-MJHT \(/);
  const zh = show([['qrReady', qrReady({ checkCode: 'WDJB-MJHT' })]], { lang: 'zh-CN' });
  assert.match(zh.$('check-code').textContent, /^代码：WDJB-MJHT/);
});

test('countdown turns "low" in the last 10 seconds and never goes negative', () => {
  const now = Date.now();
  let r = show([['qrReady', qrReady({ expiresAt: now + 8_000 })]], { now });
  assert.ok(r.$('countdown').classList.contains('low'));
  r = show([['qrReady', qrReady({ expiresAt: now - 5_000 })]], { now });
  assert.equal(r.$('countdown-text').textContent, 'Expires in 0 s');
});

test('scanned dims the QR and shows the avatar and nickname; step 3 becomes current', () => {
  const avatar = 'data:image/png;base64,AAAA';
  const { doc, $ } = show([['qrReady', qrReady()], ['scanned', { nickname: 'Bob', avatar, tipHtml: 'Confirm on your phone' }]]);
  assert.equal(doc.body.dataset.state, 'scanned');
  assert.ok($('qr-box').classList.contains('dimmed'));
  assert.ok(isShown($('qr')));
  assert.ok(isShown($('scanned-avatar')));
  assert.equal($('scanned-avatar').getAttribute('src'), avatar);
  assert.equal($('scanned-name').textContent, 'Scanned by Bob');
  assert.equal($('tip').textContent, 'Confirm on your phone');
  assert.ok(!isShown($('countdown')));
  assert.equal($('steps').querySelector('[aria-current="step"]').dataset.step, '3');
  assert.equal($('status').textContent, 'Scanned by Bob. Confirm the sign-in on your phone.');
});

test('a hostile nickname is text, and a non-data avatar URL is never used as src', () => {
  const { $, doc } = show([['qrReady', qrReady()], ['scanned', { nickname: HOSTILE, avatar: 'http://evil.example/a.png', tipHtml: 'ok' }]]);
  assert.equal($('scanned-name').textContent, `Scanned by ${HOSTILE}`);
  assert.equal($('scanned-name').querySelector('img'), null);
  assert.equal(doc.querySelectorAll('img[src="x"]').length, 0);
  assert.equal($('scanned-avatar').getAttribute('src'), null);
  assert.ok(!isShown($('scanned-avatar')));
  const initialsEl = $('scanned-avatar').parentElement.querySelector('.initials');
  assert.ok(isShown(initialsEl));
  assert.equal(initialsEl.textContent, 'IO');
  assert.equal(initialsEl.children.length, 0);
  assert.ok(!doc.body.innerHTML.includes('onerror=alert(1)>'), 'the raw markup must only exist escaped');
});

test('authorized shows the success mark and tip', () => {
  const { doc, $ } = show([['qrReady', qrReady()], ['scanned', { nickname: 'Bob', avatar: null, tipHtml: 's' }], ['authorized', { tipHtml: 'Signed in <b>successfully</b>' }]]);
  assert.equal(doc.body.dataset.state, 'authorized');
  assert.ok(isShown($('success-mark')));
  assert.ok(!isShown($('scanned-user')));
  assert.equal($('tip').querySelector('b').textContent, 'successfully');
  assert.ok(!isShown($('retry')));
});

test('loggedIn shows the profile card with every field as text', () => {
  const { doc, $ } = show([['loggedIn', { profile: PROFILE, tipHtml: 'ok' }]]);
  assert.equal(doc.body.dataset.state, 'profile');
  assert.ok(isShown($('profile')));
  assert.ok(!isShown($('login')));
  assert.equal($('profile-nickname').textContent, 'Alice Liddell');
  assert.equal($('profile-username').textContent, 'alice');
  assert.equal($('profile-email').textContent, 'alice@example.com');
  assert.equal($('profile-phone').textContent, '+86 138 0000 0000');
  assert.match($('profile-expires').textContent, /^Session expires .*2030/);
  assert.ok(isShown($('sign-out')));
  // No avatar: initials placeholder, coloured.
  assert.ok(!isShown($('profile-avatar')));
  assert.equal($('profile-avatar').parentElement.querySelector('.initials').textContent, 'AL');
  assert.equal($('status').textContent, 'Signed in as Alice Liddell.');
});

test('hostile profile strings render as text; missing fields are hidden', () => {
  const profile = { ...PROFILE, nickname: HOSTILE, username: '<script>x</script>', email: null, phone: '', avatar: 'file:///etc/passwd' };
  const { $ } = show([['loggedIn', { profile, tipHtml: '' }]]);
  assert.equal($('profile-nickname').textContent, HOSTILE);
  assert.equal($('profile-nickname').children.length, 0);
  assert.equal($('profile-username').textContent, '<script>x</script>');
  assert.equal($('profile').querySelectorAll('script').length, 0);
  assert.equal($('profile-avatar').getAttribute('src'), null);
  assert.ok(!isShown($('profile-email-row')));
  assert.ok(!isShown($('profile-phone-row')));
  assert.ok(isShown($('profile-username-row')));
});

test('expired without refreshing: expired tip and a retry button labelled by retryTipHtml', () => {
  const { doc, $ } = show([['qrReady', qrReady()], ['expired', { tipHtml: 'QR code expired', retryTipHtml: '<strong>Get a new code</strong>', refreshing: false }]]);
  assert.equal(doc.body.dataset.state, 'expired');
  assert.equal($('tip').textContent, 'QR code expired');
  assert.ok(isShown($('retry')));
  assert.equal($('retry').tagName, 'BUTTON');
  assert.equal($('retry').querySelector('strong').textContent, 'Get a new code');
  assert.ok($('qr-box').classList.contains('dimmed'));
  assert.ok(!isShown($('spinner')));
  assert.ok(!isShown($('countdown')));
});

test('expired with refreshing: no retry button, spinner over the dimmed old code', () => {
  const { $ } = show([['qrReady', qrReady()], ['expired', { tipHtml: 'QR code expired', retryTipHtml: 'Retry', refreshing: true }]]);
  assert.ok(!isShown($('retry')));
  assert.ok(isShown($('spinner')));
  assert.equal($('status').textContent, 'Getting a new QR code…');
});

test('cancelled: tip; retry only when nothing refreshes by itself', () => {
  let r = show([['qrReady', qrReady()], ['cancelled', { tipHtml: 'Cancelled on the phone', retryTipHtml: 'Retry', refreshing: true }]]);
  assert.equal(r.doc.body.dataset.state, 'cancelled');
  assert.equal(r.$('tip').textContent, 'Cancelled on the phone');
  assert.ok(!isShown(r.$('retry')));
  r = show([['qrReady', qrReady()], ['cancelled', { tipHtml: 'Cancelled', retryTipHtml: '', refreshing: false }]]);
  assert.ok(isShown(r.$('retry')));
  assert.equal(r.$('retry').textContent, 'Retry', 'falls back to our own label');
});

test('a refreshed QR replaces the expired tip and cross-fades over the old one', () => {
  const { doc, $ } = show([
    ['qrReady', qrReady()],
    ['expired', { tipHtml: 'QR code expired', retryTipHtml: 'Retry', refreshing: true }],
    ['qrReady', qrReady({ svg: SVG_2, generation: 2, tipHtml: 'Scan again' })],
  ]);
  // render() ran once with the final view: the first code was never on screen, so no cross-fade.
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.equal($('tip').textContent, 'Scan again');
  assert.equal($('qr').dataset.src, SVG_2);
  assert.equal($('qr').querySelector('svg path').getAttribute('d'), 'M18 4h7v7h-7z');
});

test('cross-fade: the old code is kept in #qr-prev on top while the new one loads', () => {
  const dom = makeDom();
  const doc = dom.window.document;
  let view = applyEvent(initialView('en'), { event: 'qrReady', data: qrReady() });
  render(doc, view);
  view = applyEvent(view, { event: 'qrReady', data: qrReady({ svg: SVG_2, generation: 2 }) });
  render(doc, view);
  assert.equal(doc.getElementById('qr').querySelector('svg path').getAttribute('d'), 'M18 4h7v7h-7z');
  assert.ok(!doc.getElementById('qr-prev').hidden);
  assert.equal(doc.getElementById('qr-prev').querySelector('svg path').getAttribute('d'), 'M4 4h7v7H4z',
    'the old code stays on top until the new one is shown');
  assert.equal(doc.getElementById('status').textContent, 'A new QR code is shown.');
});

test('failed (retryable): tip, message as text, retry button; non-retryable: no button', () => {
  let r = show([['qrReady', qrReady()], ['failed', { kind: 'network', message: HOSTILE, retryable: true, tipHtml: 'Network error', retryTipHtml: 'Retry' }]]);
  assert.equal(r.doc.body.dataset.state, 'failed');
  assert.equal(r.$('tip').textContent, 'Network error');
  assert.ok(isShown(r.$('failure-message')));
  assert.equal(r.$('failure-message').textContent, HOSTILE);
  assert.equal(r.$('failure-message').children.length, 0);
  assert.ok(isShown(r.$('retry')));
  assert.ok(isShown(r.$('problem-mark')));
  assert.ok(!isShown(r.$('qr')), 'a failed attempt’s QR is not left scannable');
  r = show([['failed', { kind: 'config', message: 'No app id configured', retryable: false, tipHtml: 'Failed', retryTipHtml: 'Retry' }]]);
  assert.ok(!isShown(r.$('retry')));
  assert.equal(r.$('failure-message').textContent, 'No app id configured');
});

test('retrying: the failed tip, the kind of problem as text, a countdown, no button', () => {
  const now = 1_000_000;
  const retry = (attempt, extra = {}) => ['retrying', { attempt, delayMs: 4_000, kind: 'protocol', problem: 'webPage',
    message: HOSTILE, background: false, tipHtml: 'Cannot reach the server', retryTipHtml: 'Retry', ...extra }];
  const { doc, $, view } = show([['qrReady', qrReady()], retry(2)], { now });
  assert.equal(doc.body.dataset.state, 'retrying');
  assert.equal($('tip').textContent, 'Cannot reach the server', 'the main line is the failed tip');
  assert.equal($('failure-message').textContent, HOSTILE, 'the detail line, as text');
  assert.equal($('failure-message').children.length, 0);
  assert.ok(isShown($('problem-mark')));
  assert.ok(!isShown($('retry')), 'the engine is retrying: nothing to press yet');
  assert.ok(!isShown($('qr')), 'no QR while the server cannot be asked about it');
  assert.ok(isShown($('retry-note')));
  assert.equal($('retry-note').textContent, 'Retrying in 4 s (attempt 2)');
  assert.ok($('status').textContent.startsWith('A problem reaching the sign-in server'));
  render(doc, view, now + 1_500);
  assert.equal($('retry-note').textContent, 'Retrying in 3 s (attempt 2)');
  // The server is back: the QR returns by itself.
  const back = applyEvent(view, { event: 'qrReady', data: qrReady() }, now + 4_000);
  render(doc, back, now + 4_000);
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.ok(isShown($('qr')) && !isShown($('retry-note')) && !isShown($('failure-message')));
});

test('after the visible retries: failed with Retry, and a quiet background countdown', () => {
  const now = 1_000_000;
  const { doc, $ } = show([
    ['retrying', { attempt: 6, delayMs: 30_000, problem: 'unreachable', message: 'down', background: false, tipHtml: 'Failed tip', retryTipHtml: 'Retry' }],
    ['failed', { kind: 'network', problem: 'unreachable', message: 'down', retryable: true, tipHtml: 'Failed tip', retryTipHtml: 'Retry' }],
    ['retrying', { attempt: 7, delayMs: 60_000, problem: 'unreachable', message: 'down', background: true, tipHtml: 'Failed tip', retryTipHtml: 'Retry' }],
  ], { now });
  assert.equal(doc.body.dataset.state, 'failed');
  assert.ok(isShown($('retry')));
  assert.equal($('retry-note').textContent, 'Still trying by itself: next try in 60 s');
});

test('tipHtml markup is kept, and any other server text never reaches innerHTML', () => {
  const { $ } = show([['qrReady', qrReady({ tipHtml: '使用 <strong>APP</strong> 扫码<br>登录', text: HOSTILE })]], { lang: 'zh-CN' });
  assert.equal($('tip').querySelectorAll('strong').length, 1);
  assert.equal($('tip').querySelectorAll('br').length, 1);
  assert.equal($('link-text').textContent, HOSTILE);
  assert.equal($('link-text').children.length, 0);
});

test('chrome translates both ways and sets <html lang>', () => {
  const { doc, $ } = show([['qrReady', qrReady()]], { lang: 'zh-CN' });
  assert.equal(doc.documentElement.lang, 'zh-CN');
  assert.equal($('title').textContent, '手机扫码登录');
  assert.equal($('cant-scan').textContent, '无法扫码？');
  assert.equal($('countdown-text').textContent.endsWith('秒后过期'), true);
  applyChrome(doc, 'en');
  assert.equal(doc.documentElement.lang, 'en');
  assert.equal($('title').textContent, 'Sign in with your phone');
  assert.deepEqual([...$('steps').querySelectorAll('li')].map((li) => li.textContent), [
    'Open the app on your phone', 'Tap Scan and point it at this code', 'Confirm the sign-in on your phone']);
  assert.equal($('lang').value, 'en');
});

test('helpers: safeImageSrc, initials, statusLine', () => {
  assert.equal(safeImageSrc('data:image/png;base64,AA'), 'data:image/png;base64,AA');
  assert.equal(safeImageSrc('DATA:IMAGE/png;base64,AA'), 'DATA:IMAGE/png;base64,AA');
  for (const bad of ['http://x/a.png', 'javascript:alert(1)', 'data:text/html,<b>', ' //x', null, 42]) {
    assert.equal(safeImageSrc(bad), null, String(bad));
  }
  assert.equal(initials('张三'), '张');
  assert.equal(initials('ada lovelace'), 'AL');
  assert.equal(initials('  '), '?');
  assert.equal(initials('😀 smile'), 'S');
  assert.equal(initials('😀'), '😀');
  assert.equal(initials('@bob'), 'B');
  assert.equal(statusLine({ ...initialView('zh-CN'), state: 'expired' }), '二维码已过期。');
});

test("Can't scan? shows our server's code and where to type it, with the link as well", () => {
  const cantScan = { kind: 'code', code: 'WDJB-MJHT', url: 'http://192.168.1.20:4000/s' };
  const { $ } = show([['qrReady', qrReady({ cantScan })]]);
  assert.ok(isShown($('cant-scan')));
  $('link-panel').hidden = false; // as after a click on "Can't scan?" (app.js)
  assert.ok(isShown($('type-code-area')));
  assert.equal($('type-code').textContent, 'WDJB-MJHT');
  assert.equal($('type-code-url').textContent, 'http://192.168.1.20:4000/s');
  assert.ok(isShown($('link-area')));
  assert.equal($('link-help').textContent, 'Or open this link on that phone:');
  assert.equal($('link-text').textContent, 'http://192.168.1.20:4000/s/abc123');
  assert.ok(!isShown($('cant-scan-words')));
  // A hostile code or address is text, never markup.
  const { $: $2 } = show([['qrReady', qrReady({ cantScan: { kind: 'code', code: HOSTILE, url: HOSTILE } })]]);
  assert.equal($2('type-code').textContent, HOSTILE);
  assert.equal($2('type-code').children.length, 0);
  assert.equal($2('type-code-url').children.length, 0);
});

test("Can't scan? on Authing explains in words and never shows the QR's JSON", () => {
  const json = '{"scene":"APP_AUTH","random":"r","userPoolId":"p"}';
  for (const lang of ['en', 'zh-CN']) {
    const { $ } = show([['qrReady', qrReady({ text: json, cantScan: { kind: 'words' } })]], { lang });
    assert.ok(isShown($('cant-scan')));
    $('link-panel').hidden = false;
    assert.ok(isShown($('cant-scan-words')));
    assert.ok(!isShown($('link-area')));
    assert.ok(!isShown($('type-code-area')));
    assert.equal($('link-text').textContent, '');
    assert.ok(!$('link-panel').textContent.includes('APP_AUTH'));
    assert.match($('cant-scan-words').textContent, lang === 'en' ? /bigger/ : /放大/);
  }
});
