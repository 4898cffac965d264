// Tips at run time: the shell's `config-reloaded` after an edit of the config file. The new tip
// replaces the one on screen (only if the screen still shows the event it was worded for), a
// refused edit says why in #notice (as text, never markup), and a clean edit clears that.

import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootApp, disposeAll, isShown, settle, qrReady } from './helpers.mjs';

afterEach(() => disposeAll());

async function waiting() {
  const r = await bootApp({ restore_session: null });
  r.fake.push('qrReady', qrReady({ tipHtml: 'Old <b>title</b>' }));
  await settle();
  return r;
}

test('an edited tip replaces the one on screen at once, without a new QR', async () => {
  const { fake, $, doc } = await waiting();
  const src = $('qr').dataset.src;
  assert.equal($('tip').innerHTML, 'Old <b>title</b>');
  fake.emit('config-reloaded', { applied: true, error: null, restart: [],
    tips: { event: 'qrReady', tipHtml: 'New <b>title</b>', retryTipHtml: null } });
  await settle();
  assert.equal($('tip').innerHTML, 'New <b>title</b>');
  assert.equal(doc.body.dataset.state, 'waiting');
  assert.equal($('qr').dataset.src, src, 'the same QR stays');
  assert.ok(!isShown($('notice')));
});

test('tips worded for an earlier screen are not shown on a later one', async () => {
  const { fake, $ } = await waiting();
  fake.push('scanned', { nickname: 'Ada', avatar: null, tipHtml: 'Scanned tip' });
  await settle();
  fake.emit('config-reloaded', { applied: true, error: null, restart: [],
    tips: { event: 'qrReady', tipHtml: 'New title', retryTipHtml: null } });
  await settle();
  assert.equal($('tip').textContent, 'Scanned tip');
});

test('a refused edit says why in #notice, as text; the tip stays; a good edit clears it', async () => {
  const { fake, $ } = await waiting();
  fake.emit('config-reloaded', { applied: false,
    error: '/home/u/.config/qrlogin/config.toml:2:1: tips.en.titel: unknown field `titel` <img src=x>',
    restart: [], tips: null });
  await settle();
  assert.ok(isShown($('notice')));
  assert.match($('notice').textContent,
    /^The config edit was not applied \(the previous settings stay\): .*config\.toml:2:1: tips\.en\.titel/);
  assert.equal($('notice').querySelector('img'), null, 'the message is text');
  assert.equal($('tip').innerHTML, 'Old <b>title</b>');
  fake.emit('config-reloaded', { applied: true, error: null, restart: [],
    tips: { event: 'qrReady', tipHtml: 'Fixed', retryTipHtml: null } });
  await settle();
  assert.ok(!isShown($('notice')));
  assert.equal($('tip').textContent, 'Fixed');
});

test('keys that wait for a restart are named', async () => {
  const { fake, $ } = await waiting();
  fake.emit('config-reloaded', { applied: true, error: null, restart: ['server.url', 'login.refresh_cap'], tips: null });
  await settle();
  assert.equal($('notice').textContent,
    'Config saved; server.url, login.refresh_cap take effect when the app restarts.');
});
