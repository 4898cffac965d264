// Kiosk idle sign-out: only the webview sees input, so the UI owns the idle timer. Fake timers
// (node:test mock.timers) stand in for the minutes a real kiosk would wait.

import { test, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { bootApp, disposeAll, isShown, settle, PROFILE, APP_INFO } from './helpers.mjs';

const KIOSK_INFO = { ...APP_INFO, kiosk: { enabled: true, idleSignOutSecs: 60, warnSecs: 10 } };

afterEach(() => {
  disposeAll();
  mock.timers.reset();
});

function fakeClock() {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.UTC(2025, 0, 1) });
}

test('after idleSignOutSecs - warnSecs the warning counts down, then sign_out and a new login', async () => {
  fakeClock();
  const { fake, doc, dom, $ } = await bootApp({ app_info: KIOSK_INFO, restore_session: PROFILE });
  assert.equal(doc.body.dataset.state, 'profile');
  assert.ok(!isShown($('kiosk-warning')));

  mock.timers.tick(49_000);
  assert.ok(!isShown($('kiosk-warning')), 'not before 50 s of idleness');
  mock.timers.tick(1_000);
  assert.ok(isShown($('kiosk-warning')));
  assert.equal($('kiosk-countdown').textContent, '10');
  assert.equal($('kiosk-warning-text').textContent, 'Signing out in 10 s — touch to stay');

  mock.timers.tick(3_000);
  assert.equal($('kiosk-countdown').textContent, '7');
  assert.equal(fake.count('sign_out'), 0);

  const startsBefore = fake.count('start_login');
  mock.timers.tick(7_000);
  await settle();
  assert.equal(fake.count('sign_out'), 1);
  assert.equal(fake.count('start_login'), startsBefore + 1, 'a fresh login follows the sign-out');
  assert.ok(fake.names().lastIndexOf('start_login') > fake.names().indexOf('sign_out'));
  assert.equal(doc.body.dataset.state, 'loading');
  assert.ok(!isShown($('kiosk-warning')));
  void dom;
});

test('a touch hides the warning and restarts the idle period', async () => {
  fakeClock();
  const { fake, dom, doc, $ } = await bootApp({ app_info: KIOSK_INFO, restore_session: PROFILE });
  mock.timers.tick(52_000);
  assert.ok(isShown($('kiosk-warning')));
  $('kiosk-warning').dispatchEvent(new dom.window.Event('touchstart', { bubbles: true }));
  assert.ok(!isShown($('kiosk-warning')));
  mock.timers.tick(49_000);
  assert.ok(!isShown($('kiosk-warning')));
  assert.equal(fake.count('sign_out'), 0);
  mock.timers.tick(1_000);
  assert.ok(isShown($('kiosk-warning')), 'the full idle period again, then the warning');
  // A key press counts as activity too.
  doc.dispatchEvent(new dom.window.KeyboardEvent('keydown', { key: 'Shift', bubbles: true }));
  assert.ok(!isShown($('kiosk-warning')));
  mock.timers.tick(20_000);
  assert.equal(fake.count('sign_out'), 0);
});

test('activity before the warning postpones it', async () => {
  fakeClock();
  const { fake, dom, doc, $ } = await bootApp({ app_info: KIOSK_INFO, restore_session: PROFILE });
  mock.timers.tick(40_000);
  doc.body.dispatchEvent(new dom.window.Event('pointerdown', { bubbles: true }));
  mock.timers.tick(40_000);
  assert.ok(!isShown($('kiosk-warning')), '80 s since start but only 40 s idle');
  mock.timers.tick(10_000);
  assert.ok(isShown($('kiosk-warning')));
  assert.equal(fake.count('sign_out'), 0);
});

test('no idle sign-out outside kiosk mode or while nobody is signed in', async () => {
  fakeClock();
  const plain = await bootApp({ restore_session: PROFILE });
  mock.timers.tick(3_600_000);
  assert.ok(!isShown(plain.$('kiosk-warning')));
  assert.equal(plain.fake.count('sign_out'), 0);

  const kioskLogin = await bootApp({ app_info: KIOSK_INFO });
  assert.equal(kioskLogin.doc.body.dataset.state, 'loading');
  mock.timers.tick(3_600_000);
  assert.ok(!isShown(kioskLogin.$('kiosk-warning')));
  assert.equal(kioskLogin.fake.count('sign_out'), 0);
});

test('a sign-in in kiosk mode starts the idle timer', async () => {
  fakeClock();
  const { fake, $ } = await bootApp({ app_info: KIOSK_INFO });
  fake.push('loggedIn', { profile: PROFILE, tipHtml: '' });
  mock.timers.tick(50_000);
  assert.ok(isShown($('kiosk-warning')));
});

test('a kiosk sign-out reloads the page: the profile goes at once, and the fresh page starts the login', async () => {
  fakeClock();
  let reloads = 0;
  const { fake, doc, $ } = await bootApp({
    app_info: KIOSK_INFO, restore_session: PROFILE,
    sign_out: { server: 'revoked', freshPage: true },
  }, { reload: () => { reloads++; } });
  assert.equal(doc.body.dataset.state, 'profile');
  const startsBefore = fake.count('start_login');
  mock.timers.tick(50_000); // the warning
  mock.timers.tick(10_000); // its countdown
  await settle();
  assert.equal(fake.count('sign_out'), 1);
  assert.equal(reloads, 1, 'the page reloads');
  assert.equal(doc.body.dataset.state, 'loading', 'the profile is gone at once');
  assert.ok(!isShown($('profile')), 'the last person\'s profile is not on screen');
  assert.equal(fake.count('start_login'), startsBefore, 'the fresh page starts the login, not this one');
});

test('the fresh page after a kiosk sign-out says what the sign-out did', async () => {
  for (const [server, words] of [['revoked', 'Signed out.'], ['pending', null]]) {
    const { $ } = await bootApp({ app_info: { ...KIOSK_INFO, remembered: false, loginStarted: true, signedOut: server } });
    await settle();
    assert.ok(isShown($('notice')), `notice shown for ${server}`);
    if (words) assert.equal($('notice').textContent, words);
    else assert.ok($('notice').textContent.length > 0);
  }
  const plain = await bootApp({ app_info: { ...KIOSK_INFO, remembered: false, loginStarted: true, signedOut: null } });
  await settle();
  assert.ok(!isShown(plain.$('notice')), 'no notice on an ordinary start');
});
