// The phone approval page's accessibility, against the REAL qrlogin-server binary: a temp data
// dir, an app and a user made with its CLI, QR sessions generated over HTTP (G4 gene-qrcode), then
// Chromium at a phone's size signs in with the form and answers each session, by keyboard only.
// axe-core runs on every screen (sign-in, sign-in error, approval with check code, confirmed,
// cancelled, wrong number, expired) in light and dark and in zh-CN and en.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TARGET_DIR, launchBrowser, Findings, settleAnimations, tabCycle, assertTabOrder, screenshot } from './lib.mjs';

const BIN = process.env.QRLOGIN_SERVER_BIN ?? path.join(TARGET_DIR, 'debug', 'qrlogin-server');
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const LOCALES = { en: 'en-US', 'zh-CN': 'zh-CN' };
const SCHEMES = ['light', 'dark'];
const USER = { username: 'alice', password: 'a11y-pass-7Hq2', nickname: 'Alice Liddell' };

let dataDir;
let server;
let base;
let browser;
let app; // an app with check codes
let quickApp; // an app whose QR codes expire after 1 s

function cli(args, input) {
  const r = spawnSync(BIN, ['--data-dir', dataDir, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qrlogin-server ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Starts `qrlogin-server serve` on 127.0.0.1 and waits for its "listening on" line. */
async function startServer() {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // --no-rate-limits: this tier signs in many times from one address within seconds.
  const child = spawn(BIN, ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`, '--public-url', base, '--no-rate-limits'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`qrlogin-server did not start in 20 s: ${stderr}`)), 20_000);
    child.stdout.on('data', (d) => { if (String(d).includes('listening on')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`qrlogin-server exited (${code}): ${stderr}`)); });
  });
  child.removeAllListeners('exit');
  return child;
}

before(async () => {
  assert.ok(existsSync(BIN), `no ${BIN}: build it with cargo build -p qrlogin-server (make test-a11y does)`);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'qrlogin-a11y-'));
  app = cli(['app', 'add', '--name', 'Front desk', '--check-code', '--json']);
  quickApp = cli(['app', 'add', '--name', 'Front desk', '--qr-ttl', '1', '--json']);
  cli(['user', 'add', '--username', USER.username, '--password-stdin', '--nickname', USER.nickname, '--json'], `${USER.password}\n`);
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A new QR session, as the desktop would make it (G4), with who is asking. */
async function generate(appId) {
  const r = await fetch(`${base}/api/v3/gene-qrcode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-authing-app-id': appId },
    body: JSON.stringify({ type: 'MOBILE_APP', requester: { deviceName: 'Front desk PC', platform: 'Linux', appName: 'qrlogin', appVersion: '0.1.0' } }),
  });
  const body = await r.json();
  assert.equal(body.statusCode, 200, JSON.stringify(body));
  return body.data; // {scanId, checkCode, ...}: the handle (qrcodeId) stays in this process
}

/** axe in both schemes on the screen as it is, and a light screenshot. */
async function checkScreen(page, findings, name, lang) {
  for (const scheme of SCHEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    await settleAnimations(page);
    await findings.check(page, `phone ${name} ${lang} ${scheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await screenshot(page, `phone-${name}-${lang}`, { docs: lang === 'en' });
}

/** "qrl:approve", "done-confirmed:authorized": the screen on show (id and data-state). */
const screenState = (page) => page.evaluate(() => {
  const shown = [...document.querySelectorAll('#qrl, .done')].find((m) => !m.hidden);
  return shown ? `${shown.id}:${shown.dataset.state}` : 'none';
});

async function press(page, key, times = 1) {
  for (let i = 0; i < times; i++) await page.keyboard.press(key);
}

test('phone page: every screen passes axe, and the whole flow works by keyboard', async () => {
  const findings = new Findings();
  try {
    await walkThrough(findings);
  } catch (err) {
    // A broken step stops the walk: still show what axe found up to there.
    err.message += `\n\naxe up to this step:\n${findings.report() || 'nothing failing'}`;
    throw err;
  }
  console.log(`phone: ${findings.checked} axe runs`);
  const report = findings.report();
  if (report) assert.fail(report);
});

async function walkThrough(findings) {
  for (const lang of Object.keys(LOCALES)) {
    const context = await browser.newContext({ ...PHONE, locale: LOCALES[lang] });
    const page = await context.newPage();
    const where = (s) => `phone ${s} ${lang}`;

    // Sign-in: a wrong password first (the error screen), then the form by keyboard.
    const first = await generate(app.appId);
    await page.goto(`${base}/s/${first.scanId}`);
    assert.equal(await screenState(page), 'qrl:signin');
    await checkScreen(page, findings, 'signin', lang);
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      assertTabOrder(await tabCycle(page, findings, where(`signin ${scheme}`)), ['username', 'password', 'submit'], where('signin'));
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.focus('input[name=username]');
    await page.keyboard.type(USER.username);
    await press(page, 'Tab');
    await page.keyboard.type('wrong-password');
    await Promise.all([page.waitForNavigation(), press(page, 'Enter')]);
    assert.equal(await screenState(page), 'qrl:signin');
    assert.ok(await page.isVisible('[role=alert]'), 'a refused sign-in says why');
    await checkScreen(page, findings, 'signin-error', lang);
    await page.focus('input[name=username]');
    await page.fill('input[name=username]', '');
    await page.keyboard.type(USER.username);
    await press(page, 'Tab');
    await page.keyboard.type(USER.password);
    await Promise.all([page.waitForNavigation(), press(page, 'Enter')]);

    // Approval with the check code: three numbers, Confirm (disabled until one is picked), Cancel.
    assert.equal(await screenState(page), 'qrl:approve');
    await checkScreen(page, findings, 'approve', lang);
    const choices = await page.$$eval('button.code', (bs) => bs.map((b) => b.dataset.code));
    assert.equal(choices.length, 3);
    const cycle = await tabCycle(page, findings, where('approve'));
    assertTabOrder(cycle, [...choices, 'cancel'], where('approve'));
    assert.ok(!cycle.includes('confirm'), 'Confirm is disabled (out of the tab order) until a number is picked');
    // By keyboard (each reachable by Tab, as the cycle shows): Space picks the number, Enter confirms.
    await page.focus(`button[data-code="${first.checkCode}"]`);
    await press(page, 'Space');
    assert.equal(await page.getAttribute(`button[data-code="${first.checkCode}"]`, 'aria-pressed'), 'true');
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      assertTabOrder(await tabCycle(page, findings, where(`approve, number picked, ${scheme}`)), [...choices, 'confirm', 'cancel'], where('approve, picked'));
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await checkScreen(page, findings, 'approve-picked', lang);
    await page.focus('#confirm');
    await press(page, 'Enter');
    await page.waitForSelector('#done-confirmed:not([hidden])');
    assert.equal(await screenState(page), 'done-confirmed:authorized');
    assert.equal(await page.evaluate(() => document.activeElement.closest('.done')?.id), 'done-confirmed',
      'the result takes focus, so it is read out');
    await checkScreen(page, findings, 'confirmed', lang);
    // Opening the same link again: the server-rendered "confirmed" screen.
    await page.goto(`${base}/s/${first.scanId}`);
    assert.equal(await screenState(page), 'qrl:authorized');
    await findings.check(page, `phone confirmed-reopened ${lang}`);

    // Cancel, by keyboard.
    const second = await generate(app.appId);
    await page.goto(`${base}/s/${second.scanId}`);
    await page.focus('#cancel');
    await press(page, 'Enter');
    await page.waitForSelector('#done-cancelled:not([hidden])');
    await checkScreen(page, findings, 'cancelled', lang);

    // The wrong number: the server cancels the sign-in (fail closed).
    const third = await generate(app.appId);
    await page.goto(`${base}/s/${third.scanId}`);
    const wrong = (await page.$$eval('button.code', (bs) => bs.map((b) => b.dataset.code))).find((c) => c !== third.checkCode);
    await page.focus(`button[data-code="${wrong}"]`);
    await press(page, 'Space');
    await page.focus('#confirm');
    await press(page, 'Enter');
    await page.waitForSelector('#done-wrong-code:not([hidden])');
    await checkScreen(page, findings, 'wrong-number', lang);

    // Expired: a 1 s QR code, opened after it ran out.
    const stale = await generate(quickApp.appId);
    await new Promise((r) => setTimeout(r, 1_300));
    await page.goto(`${base}/s/${stale.scanId}`);
    assert.equal(await screenState(page), 'qrl:error');
    await checkScreen(page, findings, 'expired', lang);
    await context.close();
  }
}
