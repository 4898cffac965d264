// What a screen reader hears: the texts the live region (#status, role=status) receives, in order,
// over a whole sign-in. Each state change once; never the countdown's seconds; a message an
// action put there ("Copied") is not followed by the same state line again. Plus the kiosk
// warning: an alert dialog that takes focus and gives it back.

import { test, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { bootApp, disposeAll, qrReady, settle, PROFILE, APP_INFO } from './helpers.mjs';
import { statusLine } from '../render.js';

afterEach(() => {
  disposeAll();
  mock.timers.reset();
});

function fakeClock() {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.UTC(2025, 0, 1) });
}

/** Records every text written into #status (each write is one announcement). */
function listen(dom, status) {
  const heard = [];
  new dom.window.MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'childList') for (const n of r.addedNodes) heard.push(n.textContent);
      if (r.type === 'characterData') heard.push(r.target.data);
    }
  }).observe(status, { childList: true, characterData: true, subtree: true });
  return heard;
}

/** Lets the MutationObserver's microtasks run. */
const flush = () => settle(2);

test('a sign-in is announced once per state, and the countdown never', async () => {
  fakeClock();
  const { fake, dom, $ } = await bootApp();
  const heard = listen(dom, $('status'));
  assert.equal($('status').getAttribute('role'), 'status');

  fake.push('qrReady', qrReady({ expiresAt: Date.now() + 120_000 }));
  mock.timers.tick(5_000); // five countdown re-renders
  await flush();
  assert.match($('countdown-text').textContent, /Expires in 115 s/, 'the countdown did move');

  $('copy-link').click(); // the fake bridge's clipboard plugin takes the link
  await settle();
  mock.timers.tick(3_000); // the countdown goes on under the message
  await flush();

  fake.push('scanned', { nickname: 'Bob', avatar: null, tipHtml: 'Confirm on your phone' });
  fake.push('authorized', { tipHtml: 'Confirmed' });
  fake.push('loggedIn', { profile: PROFILE, tipHtml: 'Done' });
  await flush();

  assert.deepEqual(heard, [
    'QR code ready. Scan it with your phone.',
    'Copied',
    'Scanned by Bob. Confirm the sign-in on your phone.',
    'Confirmed. Signing you in…',
    'Signed in as Alice Liddell.',
  ]);
});

test('expiry, the refresh and the new code: each once, in order', async () => {
  fakeClock();
  const { fake, dom, $ } = await bootApp();
  fake.push('qrReady', qrReady());
  await flush();
  const heard = listen(dom, $('status'));
  fake.push('expired', { tipHtml: 'Expired', retryTipHtml: 'Refresh', refreshing: true });
  mock.timers.tick(2_000);
  fake.push('qrReady', qrReady({ generation: 2 }));
  mock.timers.tick(2_000);
  fake.push('expired', { tipHtml: 'Expired', retryTipHtml: 'Refresh', refreshing: false });
  mock.timers.tick(2_000);
  await flush();
  assert.deepEqual(heard, ['Getting a new QR code…', 'A new QR code is shown.', 'The QR code expired.']);
});

test('a failure is announced once; the retry countdown and later attempts are not', async () => {
  fakeClock();
  const { fake, dom, app, $ } = await bootApp();
  fake.push('qrReady', qrReady());
  await flush();
  const heard = listen(dom, $('status'));
  const retrying = (attempt, background = false) => ['retrying', { attempt, delayMs: 8_000, kind: 'network',
    problem: 'unreachable', message: 'offline', background, tipHtml: 'Network error', retryTipHtml: 'Retry' }];
  fake.push(...retrying(2));
  for (let i = 0; i < 6; i++) mock.timers.tick(1_000);
  fake.push(...retrying(3));
  for (let i = 0; i < 6; i++) mock.timers.tick(1_000);
  await flush();
  assert.equal(heard.length, 1, `one announcement, heard ${JSON.stringify(heard)}`);
  assert.equal(heard[0], statusLine(app.view));
  // The visible attempts are over: the failure is announced once, its background retries are not.
  fake.push('failed', { kind: 'network', message: 'offline', retryable: true, tipHtml: 'Network error', retryTipHtml: 'Retry' });
  fake.push(...retrying(7, true));
  for (let i = 0; i < 6; i++) mock.timers.tick(1_000);
  await flush();
  assert.equal(heard.length, 2, `one more announcement, heard ${JSON.stringify(heard)}`);
  assert.equal(heard[1], statusLine(app.view));
});

test('a language switch announces the new state once, in the new language', async () => {
  const { dom, $, fake } = await bootApp();
  fake.push('qrReady', qrReady());
  await flush();
  const heard = listen(dom, $('status'));
  $('lang').value = 'zh-CN';
  $('lang').dispatchEvent(new dom.window.Event('change', { bubbles: true }));
  await settle();
  fake.push('qrReady', qrReady({ tipHtml: '扫码' }));
  await flush();
  assert.deepEqual(heard, ['二维码已就绪，请用手机扫码。', '正在获取二维码…', '二维码已就绪，请用手机扫码。']);
});

const KIOSK_INFO = { ...APP_INFO, kiosk: { enabled: true, idleSignOutSecs: 60, warnSecs: 10 } };

test('kiosk warning: an alertdialog named by its sentence takes focus, and gives it back', async () => {
  fakeClock();
  const { dom, doc, $ } = await bootApp({ app_info: KIOSK_INFO, restore_session: PROFILE });
  $('sign-out').focus();
  const heard = listen(dom, $('status'));
  mock.timers.tick(50_000);
  const dialog = $('kiosk-warning').querySelector('[role="alertdialog"]');
  assert.ok(dialog, 'role="alertdialog"');
  assert.equal(dialog.getAttribute('aria-modal'), 'true');
  assert.equal(doc.getElementById(dialog.getAttribute('aria-labelledby')).textContent, 'Signing out in 10 s — touch to stay');
  assert.equal(doc.activeElement, dialog, 'focus moves into the warning');
  mock.timers.tick(3_000);
  await flush();
  assert.deepEqual(heard, [], 'the dialog speaks for itself when focused; the seconds are not announced');
  assert.equal($('kiosk-countdown').getAttribute('aria-hidden'), 'true', 'the big number repeats the sentence for the eye only');

  $('kiosk-warning').dispatchEvent(new dom.window.Event('touchstart', { bubbles: true }));
  assert.ok($('kiosk-warning').hidden);
  assert.equal(doc.activeElement, $('sign-out'), 'focus goes back where it was');
});

test('kiosk warning with nothing focused before: focus lands on the profile heading', async () => {
  fakeClock();
  const { dom, doc, $ } = await bootApp({ app_info: KIOSK_INFO, restore_session: PROFILE });
  doc.activeElement.blur();
  mock.timers.tick(50_000);
  assert.equal(doc.activeElement, $('kiosk-warning').querySelector('[role="alertdialog"]'));
  doc.dispatchEvent(new dom.window.KeyboardEvent('keydown', { key: 'Shift', bubbles: true }));
  assert.equal(doc.activeElement, $('profile-nickname'));
});
