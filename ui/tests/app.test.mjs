// app.js against a fake shell: start-up, the buttons, and what each one asks the shell to do.

import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootApp, disposeAll, isShown, qrReady, settle, until, PROFILE, APP_INFO } from './helpers.mjs';

afterEach(disposeAll);

test('start-up: app_info, then restore_session, then start_login with a Channel', async () => {
  const { fake, doc, $ } = await bootApp();
  assert.deepEqual(fake.names().slice(0, 3), ['app_info', 'restore_session', 'start_login']);
  const start = fake.calls.find((c) => c.cmd === 'start_login');
  assert.ok(start.args.onEvent instanceof doc.defaultView.__TAURI__.core.Channel, 'arg is named onEvent and is a Channel');
  assert.equal(typeof start.args.onEvent.onmessage, 'function');
  assert.equal(doc.documentElement.lang, 'en', 'language from app_info');
  assert.equal($('title').textContent, 'Sign in with your phone');
  assert.equal(doc.body.dataset.state, 'loading');
  assert.ok(!doc.body.classList.contains('kiosk'));
});

test('start-up with nothing remembered: no restore_session, start_login right after app_info', async () => {
  // The shell started the first attempt itself while the page loaded (remembered: false); asking
  // restore_session first would only put a round trip before the QR.
  const { fake, doc } = await bootApp({ app_info: { ...APP_INFO, remembered: false } });
  assert.deepEqual(fake.names().slice(0, 2), ['app_info', 'start_login']);
  assert.ok(!fake.names().includes('restore_session'));
  fake.push('qrReady', qrReady());
  assert.equal(doc.body.dataset.state, 'waiting');
});

test('start-up with nothing remembered: the QR comes with app_info itself, no second call', async () => {
  // The shell hands the first attempt to the channel that came with app_info and may send its
  // QR before app_info has answered: the page shows it, in app_info's language, and asks nothing else.
  const { fake, doc, $ } = await bootApp({
    app_info: (args) => {
      args.onEvent.onmessage({ event: 'qrReady', data: qrReady() });
      return { ...APP_INFO, remembered: false, loginStarted: true };
    },
  });
  assert.ok(fake.calls[0].args.onEvent instanceof doc.defaultView.__TAURI__.core.Channel, 'the first question brings a Channel');
  assert.deepEqual(fake.names().filter((n) => n !== 'ui_painted'), ['app_info']);
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.ok(isShown($('qr')));
  assert.equal($('title').textContent, 'Sign in with your phone');
  fake.push('scanned', { nickname: 'Bob', avatar: null, tipHtml: 'Confirm on your phone' });
  assert.equal(doc.body.dataset.state, 'scanned', 'later events of that attempt come on the same channel');
});

test('events pushed on the channel drive the page through to the profile', async () => {
  const { fake, doc, $ } = await bootApp();
  fake.push('starting', { attempt: 1 });
  assert.equal(doc.body.dataset.state, 'loading');
  fake.push('qrReady', qrReady());
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.ok(isShown($('qr')));
  fake.push('scanned', { nickname: 'Bob', avatar: null, tipHtml: 'Confirm on your phone' });
  assert.equal(doc.body.dataset.state, 'scanned');
  fake.push('authorized', { tipHtml: 'Signing in' });
  assert.equal(doc.body.dataset.state, 'authorized');
  fake.push('loggedIn', { profile: PROFILE, tipHtml: 'Done' });
  assert.equal(doc.body.dataset.state, 'profile');
  assert.equal($('profile-nickname').textContent, 'Alice Liddell');
  await until(() => fake.count('ui_painted') > 1); // rAF + timeout: after the paint
  await new Promise((r) => setTimeout(r, 80)); // and no second report of either
  const painted = fake.calls.filter((c) => c.cmd === 'ui_painted').map((c) => c.args.what).sort();
  assert.deepEqual(painted, ['profile', 'qr']);
});

test('a remembered session shows the profile at once, without starting a login', async () => {
  const { fake, doc, $ } = await bootApp({ restore_session: PROFILE });
  assert.equal(doc.body.dataset.state, 'profile');
  assert.equal(fake.count('start_login'), 0);
  assert.equal($('profile-email').textContent, 'alice@example.com');
  await until(() => fake.count('ui_painted') > 0);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(fake.calls.filter((c) => c.cmd === 'ui_painted' && c.args.what === 'profile').length, 1);
});

test('the inline QR reports ui_painted("qr") after the next paint, once', async () => {
  const { fake, $ } = await bootApp();
  fake.push('qrReady', qrReady());
  assert.ok($('qr').querySelector('svg path'), 'the core\'s SVG is drawn inline');
  assert.equal(fake.count('ui_painted'), 0, 'not before the frame is painted');
  await until(() => fake.count('ui_painted') > 0);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(fake.calls.filter((c) => c.cmd === 'ui_painted').map((c) => c.args), [{ what: 'qr' }]);
});

test('a QR image that is not the core\'s SVG reports ui_painted("qr") when the image has loaded', async () => {
  const { fake, dom, $ } = await bootApp();
  fake.push('qrReady', qrReady({ svg: null }));
  const img = $('qr').querySelector('img');
  assert.ok(img, 'a PNG is shown as an image');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(fake.count('ui_painted'), 0, 'not before the image has loaded');
  img.dispatchEvent(new dom.window.Event('load'));
  await until(() => fake.count('ui_painted') > 0);
  assert.deepEqual(fake.calls.filter((c) => c.cmd === 'ui_painted').map((c) => c.args), [{ what: 'qr' }]);
});

test('retry appears only when it should, and calls start_login at once', async () => {
  const { fake, doc, $ } = await bootApp();
  fake.push('qrReady', qrReady());
  assert.ok(!isShown($('retry')));
  fake.push('expired', { tipHtml: 'Expired', retryTipHtml: 'Refresh', refreshing: true });
  assert.ok(!isShown($('retry')), 'no retry while the core refreshes by itself');
  fake.push('expired', { tipHtml: 'Expired', retryTipHtml: 'Refresh', refreshing: false });
  assert.ok(isShown($('retry')));
  assert.equal(doc.activeElement, $('retry'), 'focus goes to the only action on screen');
  const before = fake.count('start_login');
  $('retry').click();
  await settle();
  assert.equal(fake.count('start_login'), before + 1);
  assert.equal(doc.body.dataset.state, 'loading');
  assert.ok(!isShown($('retry')));
});

test('failed: retry only when retryable; retrying counts down under the tip', async () => {
  const { fake, $ } = await bootApp();
  fake.push('failed', { kind: 'config', message: 'bad config', retryable: false, tipHtml: 'Failed', retryTipHtml: 'Retry' });
  assert.ok(!isShown($('retry')));
  fake.push('failed', { kind: 'network', message: 'offline', retryable: true, tipHtml: 'Network error', retryTipHtml: 'Retry' });
  assert.ok(isShown($('retry')));
  // Background retries after the visible ones: the button stays, a quiet note counts down.
  fake.push('retrying', { attempt: 7, delayMs: 2_000, message: 'offline', background: true, tipHtml: 'Network error', retryTipHtml: 'Retry' });
  assert.ok(isShown($('retry')));
  assert.equal($('retry-note').textContent, 'Still trying by itself: next try in 2 s');
  // Visible retries: the retrying view, no button, the countdown ticks.
  fake.push('retrying', { attempt: 3, delayMs: 2_000, kind: 'protocol', problem: 'notJson', message: 'not JSON', background: false, tipHtml: 'Network error', retryTipHtml: 'Retry' });
  assert.ok(!isShown($('retry')));
  assert.equal($('retry-note').textContent, 'Retrying in 2 s (attempt 3)');
  // The ticker moves it to 1 s within the 2 s (polled: timers run late on a loaded machine).
  await until(() => $('retry-note').textContent !== 'Retrying in 2 s (attempt 3)', 1_990);
  assert.equal($('retry-note').textContent, 'Retrying in 1 s (attempt 3)', 'the ticker keeps it counting');
});

test('events from a replaced channel are ignored', async () => {
  const { fake, doc, $ } = await bootApp();
  // The one that came with app_info (unused: the page restored first) and start_login's.
  assert.equal(fake.channels.length, 2);
  const [withInfo, first] = fake.channels;
  fake.push('qrReady', qrReady());
  fake.push('expired', { tipHtml: 'Expired', retryTipHtml: 'Retry', refreshing: false });
  $('retry').click();
  await settle();
  assert.equal(fake.channels.length, 3);
  first.onmessage({ event: 'scanned', data: { nickname: 'Mallory', avatar: null, tipHtml: 'stale' } });
  withInfo.onmessage({ event: 'scanned', data: { nickname: 'Mallory', avatar: null, tipHtml: 'stale' } });
  assert.equal(doc.body.dataset.state, 'loading');
  assert.ok(!$('scanned-name').textContent.includes('Mallory'));
});

test('a start_login rejection shows the error with a retry', async () => {
  let n = 0;
  const { doc, $, fake } = await bootApp({
    start_login: () => { n += 1; if (n === 1) throw { kind: 'config', message: 'No server configured' }; },
  });
  assert.equal(doc.body.dataset.state, 'failed');
  assert.equal($('tip').textContent, 'Sign-in failed.', 'our own headline when the shell sent no tip');
  assert.equal($('failure-message').textContent, 'No server configured');
  $('retry').click();
  await settle();
  assert.equal(fake.count('start_login'), 2);
  assert.equal(doc.body.dataset.state, 'loading');
});

test('sign out calls sign_out, then starts a fresh login', async () => {
  const { fake, doc, $ } = await bootApp({ restore_session: PROFILE });
  $('sign-out').click();
  await settle();
  assert.ok(fake.names().indexOf('sign_out') < fake.names().lastIndexOf('start_login'));
  assert.equal(doc.body.dataset.state, 'loading');
  assert.ok(!isShown($('profile')));
});

test('language switch calls set_lang, retranslates, then restarts the login', async () => {
  const { fake, doc, $, dom } = await bootApp();
  const starts = fake.count('start_login');
  $('lang').value = 'zh-CN';
  $('lang').dispatchEvent(new dom.window.Event('change'));
  await settle();
  const setLang = fake.calls.find((c) => c.cmd === 'set_lang');
  assert.deepEqual(setLang.args, { lang: 'zh-CN' });
  assert.ok(fake.names().lastIndexOf('start_login') > fake.names().indexOf('set_lang'));
  assert.equal(fake.count('start_login'), starts + 1);
  assert.equal(doc.documentElement.lang, 'zh-CN');
  assert.equal($('title').textContent, '手机扫码登录');
});

test('language switch on the profile does not start a login', async () => {
  const { fake, doc, $, dom } = await bootApp({ restore_session: PROFILE });
  $('lang').value = 'zh-CN';
  $('lang').dispatchEvent(new dom.window.Event('change'));
  await settle();
  assert.equal(fake.count('set_lang'), 1);
  assert.equal(fake.count('start_login'), 0);
  assert.equal(doc.body.dataset.state, 'profile');
  assert.match($('profile-expires').textContent, /^登录有效期至/);
  assert.equal($('sign-out').textContent, '退出登录');
});

test("can't scan: shows the link as text and copies it through the shell's clipboard plugin", async () => {
  const copied = [];
  const { fake, $ } = await bootApp({ 'plugin:clipboard-manager|write_text': ({ text }) => { copied.push(text); } });
  fake.push('qrReady', qrReady());
  assert.ok(isShown($('cant-scan')));
  assert.ok(!isShown($('link-panel')));
  $('cant-scan').click();
  assert.ok(isShown($('link-panel')));
  assert.equal($('cant-scan').getAttribute('aria-expanded'), 'true');
  assert.equal($('link-text').textContent, 'http://192.168.1.20:4000/s/abc123');
  $('copy-link').click();
  await settle();
  assert.deepEqual(copied, ['http://192.168.1.20:4000/s/abc123']);
  assert.equal($('copy-link').textContent, 'Copied');
});

test('copy falls back to selecting the link when the shell cannot reach the clipboard', async () => {
  const { fake, dom, $ } = await bootApp({
    'plugin:clipboard-manager|write_text': () => { throw { kind: 'clipboard', message: 'no clipboard' }; },
  });
  fake.push('qrReady', qrReady());
  $('cant-scan').click();
  $('copy-link').click();
  await settle();
  assert.equal(dom.window.getSelection().toString(), 'http://192.168.1.20:4000/s/abc123');
  assert.equal($('status').textContent, 'Link selected: press Ctrl+C to copy it');
});

test('demo account: only when app_info.demo; shows the credentials as text', async () => {
  const { $ } = await bootApp({ app_info: { ...APP_INFO, demo: false } });
  assert.ok(!isShown($('demo-show')));
  const r = await bootApp({ demo_credentials: { username: 'demo<b>', password: 'pa55<i>word' } });
  assert.ok(isShown(r.$('demo-show')));
  assert.ok(!isShown(r.$('demo-username')));
  r.$('demo-show').click();
  await settle();
  assert.equal(r.fake.count('demo_credentials'), 1);
  assert.ok(isShown(r.$('demo-username')));
  assert.equal(r.$('demo-username').textContent, 'demo<b>');
  assert.equal(r.$('demo-password').textContent, 'pa55<i>word');
  assert.equal(r.$('demo-creds').querySelectorAll('b, i').length, 0);
});

test('LAN switch: only with an embedded server; set_lan(bool) then a new login', async () => {
  const { $ } = await bootApp({ app_info: { ...APP_INFO, server: { ...APP_INFO.server, embedded: false } } });
  assert.ok(!isShown($('lan-toggle')));
  const r = await bootApp({ set_lan: ({ enabled }) => ({ ...APP_INFO, server: { ...APP_INFO.server, lan: enabled } }) });
  assert.ok(isShown(r.$('lan-toggle')));
  assert.equal(r.$('lan-toggle').checked, false);
  const starts = r.fake.count('start_login');
  r.$('lan-toggle').click(); // a real checkbox: click toggles and fires change
  await settle();
  assert.deepEqual(r.fake.calls.find((c) => c.cmd === 'set_lan').args, { enabled: true });
  assert.equal(r.fake.count('start_login'), starts + 1);
  assert.equal(r.$('lan-toggle').checked, true);
});

test('LAN switch flips back when the shell refuses', async () => {
  const r = await bootApp({ set_lan: () => { throw { kind: 'config', message: 'port in use' }; } });
  r.$('lan-toggle').click();
  await settle();
  assert.equal(r.$('lan-toggle').checked, false);
  assert.equal(r.$('status').textContent, 'port in use');
});

test('kiosk mode: body.kiosk, no demo or LAN controls, language kept', async () => {
  const { doc, $ } = await bootApp({ app_info: { ...APP_INFO, kiosk: { enabled: true, idleSignOutSecs: 60, warnSecs: 10 } } });
  assert.ok(doc.body.classList.contains('kiosk'));
  assert.ok(!isShown($('demo-show')));
  assert.ok(!isShown($('lan-toggle')));
  assert.ok(isShown($('lang')));
});

test('page hygiene: no inline scripts, styles or on* handlers (CSP), buttons are buttons', async () => {
  const { doc } = await bootApp();
  for (const s of doc.querySelectorAll('script')) {
    assert.equal(s.textContent.trim(), '', 'inline script');
    assert.equal(s.type, 'module');
  }
  assert.equal(doc.querySelectorAll('style, [style]').length, 0);
  for (const el of doc.querySelectorAll('*')) {
    for (const a of el.attributes) assert.ok(!/^on/i.test(a.name), `${el.tagName} has ${a.name}`);
  }
  for (const id of ['retry', 'sign-out', 'cant-scan', 'copy-link', 'demo-show']) {
    const el = doc.getElementById(id);
    assert.equal(el.tagName, 'BUTTON', id);
    assert.equal(el.type, 'button', id);
  }
  assert.equal(doc.getElementById('lang').tagName, 'SELECT');
});

test('every element id of contracts.md §5 exists', async () => {
  const { doc } = await bootApp();
  const ids = `qr qr-box countdown tip check-code status scanned-avatar scanned-name retry cant-scan link-text
    copy-link profile profile-avatar profile-nickname profile-username profile-email profile-phone profile-expires
    sign-out lang demo-show demo-username demo-password lan-toggle kiosk-warning kiosk-countdown`.split(/\s+/);
  for (const id of ids) assert.ok(doc.getElementById(id), `#${id}`);
  assert.equal(doc.getElementById('qr').getAttribute('role'), 'img');
  assert.ok(doc.getElementById('qr').getAttribute('aria-label').length > 10);
  assert.equal(doc.getElementById('status').getAttribute('aria-live'), 'polite');
});

test('device dialect: the steps and the can\'t-scan words speak of the camera, in both languages', async () => {
  const steps = ($) => [...$('steps').querySelectorAll('li')].map((li) => li.textContent);
  const authing = await bootApp({ app_info: { ...APP_INFO, lang: 'en' } });
  assert.equal(steps(authing.$)[1], 'Tap Scan and point it at this code');
  const { $, dom } = await bootApp({ app_info: { ...APP_INFO, lang: 'en', server: { ...APP_INFO.server, dialect: 'device' } } });
  assert.deepEqual(steps($), ['Open the camera on your phone', 'Point it at this code and open the sign-in page',
    'Sign in there and approve this computer']);
  assert.match($('cant-scan-words').textContent, /camera on your phone/);
  $('lang').value = 'zh-CN';
  $('lang').dispatchEvent(new dom.window.Event('change'));
  await settle();
  assert.equal(steps($)[0], '打开手机相机');
});
