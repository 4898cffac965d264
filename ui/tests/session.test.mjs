// How a session ends, as the window says it: which sign-out happened (revoked at the server, or
// only here with the server told later), the kiosk's idle sign-out, and the server ending it.

import { test, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { bootApp, disposeAll, isShown, settle, qrReady, PROFILE, APP_INFO } from './helpers.mjs';

afterEach(() => {
  disposeAll();
  mock.timers.reset();
});

async function signOutWith(server) {
  const r = await bootApp({ restore_session: PROFILE, sign_out: { server } });
  r.$('sign-out').click();
  await settle();
  r.fake.push('qrReady', qrReady());
  return r;
}

test('Sign out revoked at the server: the QR screen says "Signed out."', async () => {
  const { fake, doc, $ } = await signOutWith('revoked');
  assert.deepEqual(fake.calls.find((c) => c.cmd === 'sign_out').args, { reason: 'button' });
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.ok(isShown($('notice')));
  assert.equal($('notice').textContent, 'Signed out.');
  assert.match($('status').textContent, /^Signed out\./, 'announced with the QR');
});

test('Sign out with the server unreachable says it was signed out here and the server is told later', async () => {
  const { $ } = await signOutWith('pending');
  assert.equal($('notice').textContent,
    'Signed out on this computer; the server will be told when it can be reached.');
});

test('the pending notice turns into "Signed out." once the server was told', async () => {
  const { fake, $ } = await signOutWith('pending');
  fake.emit('revocation-delivered', null);
  await settle();
  assert.equal($('notice').textContent, 'Signed out.');
});

test('Sign out at a server without revocation says so', async () => {
  const { $ } = await signOutWith('localOnly');
  assert.match($('notice').textContent, /^Signed out on this computer \(this server cannot end sessions remotely\)/);
});

test('the notice goes away once someone scans', async () => {
  const { fake, $ } = await signOutWith('revoked');
  fake.push('scanned', { nickname: 'Bob', avatar: null, tipHtml: 'Scanned' });
  assert.ok(!isShown($('notice')));
});

test('a sign-out that fails in the shell still returns to the QR, claiming nothing', async () => {
  const { fake, doc, $ } = await bootApp({
    restore_session: PROFILE,
    sign_out: () => { throw { kind: 'store', message: 'disk full' }; },
  });
  $('sign-out').click();
  await settle();
  fake.push('qrReady', qrReady());
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.ok(!isShown($('notice')));
});

test('kiosk idle sign-out tells the shell it was the idle timer', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.UTC(2025, 0, 1) });
  const info = { ...APP_INFO, kiosk: { enabled: true, idleSignOutSecs: 20, warnSecs: 10 } };
  const { fake, $ } = await bootApp({ app_info: info, restore_session: PROFILE, sign_out: { server: 'revoked' } });
  mock.timers.tick(10_000); // the warning
  for (let i = 0; i < 10; i++) mock.timers.tick(1_000); // its countdown
  await settle();
  assert.deepEqual(fake.calls.find((c) => c.cmd === 'sign_out')?.args, { reason: 'idle' });
  fake.push('qrReady', qrReady());
  assert.equal($('notice').textContent, 'Signed out.');
});

test('the server ending a shown session returns to the QR with "your session ended"', async () => {
  const { fake, doc, $ } = await bootApp({ restore_session: PROFILE });
  assert.equal(doc.body.dataset.state, 'profile');
  const starts = fake.count('start_login');
  fake.emit('session-ended', { reason: 'invalid_grant' });
  await settle();
  assert.equal(fake.count('start_login'), starts + 1);
  fake.push('qrReady', qrReady());
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.equal($('notice').textContent, 'Your session ended. Sign in again.');
});

test('a remembered session found ended at start shows the QR with the same notice', async () => {
  let emitEnded;
  const { fake, $ } = await bootApp({
    restore_session: () => { emitEnded(); return null; },
  }, {}, (f) => { emitEnded = () => f.emit('session-ended', { reason: 'revoked' }); });
  fake.push('qrReady', qrReady());
  assert.equal($('notice').textContent, 'Your session ended. Sign in again.');
});

test('a background refresh moves the profile\'s "session expires" on', async () => {
  const { fake, $ } = await bootApp({ restore_session: { ...PROFILE, expiresAt: Date.UTC(2030, 0, 1, 10, 0) } });
  const before = $('profile-expires').textContent;
  fake.emit('session-refreshed', { expiresAt: Date.UTC(2030, 0, 1, 11, 0) });
  await settle();
  assert.notEqual($('profile-expires').textContent, before);
  fake.emit('session-refreshed', { expiresAt: 'soon' });
  await settle();
  assert.ok($('profile-expires').textContent.length > 0, 'a bad payload changes nothing');
});

test('the notice is never HTML: it is one of our own sentences', async () => {
  const { $ } = await signOutWith('<img src=x onerror=alert(1)>');
  assert.ok(!isShown($('notice')), 'an unknown outcome shows nothing');
  assert.equal($('notice').querySelector('img'), null);
});
