// The account-link page (`idp add … --link ask`) against the REAL qrlogin-server binary: a
// mini-program identity source added with the CLI (secret on stdin), a WeChat stand-in on
// 127.0.0.1 for jscode2session / token / getuserphonenumber, a sign-in whose verified phone is
// carol's, then Chromium at a phone's size on the page the 409 reply links to: axe on the ask,
// wrong-password and linked screens in light and dark, zh-CN and en, and the form by keyboard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TARGET_DIR, launchBrowser, Findings, settleAnimations, screenshot } from './lib.mjs';

const BIN = process.env.QRLOGIN_SERVER_BIN ?? path.join(TARGET_DIR, 'debug', 'qrlogin-server');
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const LOCALES = { en: 'en-US', 'zh-CN': 'zh-CN' };
const SCHEMES = ['light', 'dark'];
const CAROL = { username: 'carol', password: 'a11y-link-4Rt9', nickname: 'Carol Chen', phone: '13580006666' };
const WX = { appid: 'wxa11y000000000001', secret: 'a11y-stand-in-secret' };

let dataDir;
let server;
let wechat;
let wechatBase;
let base;
let browser;
let appId;

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

/** WeChat's three calls as the server makes them; every code names carol's phone. */
function startWechat() {
  let n = 0;
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const q = Object.fromEntries(url.searchParams);
    const reply = (v) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(v)); };
    if (url.pathname === '/sns/jscode2session') {
      if (q.appid !== WX.appid || q.secret !== WX.secret) return reply({ errcode: 40125, errmsg: 'invalid appsecret' });
      n += 1;
      return reply({ openid: `openid-${q.js_code}`, session_key: Buffer.alloc(16, n).toString('base64') });
    }
    if (url.pathname === '/cgi-bin/token') return reply({ access_token: 'stand-in-token', expires_in: 7200 });
    if (url.pathname === '/wxa/business/getuserphonenumber') {
      return reply({ errcode: 0, errmsg: 'ok', phone_info: { phoneNumber: CAROL.phone, purePhoneNumber: CAROL.phone, countryCode: '86', watermark: { timestamp: 1, appid: WX.appid } } });
    }
    res.statusCode = 404;
    reply({ errcode: -1, errmsg: 'not here' });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

async function startServer() {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`, '--public-url', base,
    '--no-rate-limits', '--wechat-api-base', wechatBase], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'qrlogin-a11y-link-'));
  appId = cli(['app', 'add', '--name', 'Front desk', '--json']).appId;
  cli(['user', 'add', '--username', CAROL.username, '--password-stdin', '--nickname', CAROL.nickname, '--phone', CAROL.phone, '--json'], `${CAROL.password}\n`);
  cli(['idp', 'add', 'wechat-miniprogram', '--id', 'company-wxapp', '--app-id', WX.appid, '--app-secret-stdin', '--link', 'ask', '--json'], WX.secret);
  wechat = await startWechat();
  wechatBase = `http://127.0.0.1:${wechat.address().port}`;
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
  wechat?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The mini-program's sign-in (code and phone); with `--link ask` the reply links to the page. */
async function askedLink(code) {
  const r = await fetch(`${base}/api/v3/signin-by-mobile`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-authing-app-id': appId },
    body: JSON.stringify({
      extIdpConnidentifier: 'company-wxapp',
      connection: 'wechat_mini_program_code_and_phone',
      wechatMiniProgramCodeAndPhonePayload: { wxLoginInfo: { code }, wxPhoneInfo: { code: `phone-${code}` } },
    }),
  });
  const body = await r.json();
  assert.equal(r.status, 409, JSON.stringify(body));
  assert.equal(body.apiCode, 2261, JSON.stringify(body));
  return body.data.linkUrl;
}

async function checkScreen(page, findings, name, lang) {
  for (const scheme of SCHEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    await settleAnimations(page);
    await findings.check(page, `link ${name} ${lang} ${scheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await screenshot(page, `link-${name}-${lang}`, { docs: lang === 'en' });
}

test('account-link page: every screen passes axe, and the form works by keyboard', async () => {
  const findings = new Findings();
  for (const lang of Object.keys(LOCALES)) {
    const context = await browser.newContext({ ...PHONE, locale: LOCALES[lang] });
    const page = await context.newPage();
    const link = await askedLink(`carol-${lang}`);
    await page.goto(link);
    assert.equal(await page.getAttribute('#qrl', 'data-state'), 'link');
    assert.equal(await page.textContent('[data-field="account"]'), CAROL.nickname);
    assert.equal(await page.textContent('[data-field="phone"]'), '135****6666');
    await checkScreen(page, findings, 'ask', lang);

    // By keyboard: Tab to the password, type a wrong one, Enter.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.name), 'password');
    await page.keyboard.type('not-her-password');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(await page.getAttribute('#qrl', 'data-state'), 'link');
    assert.ok(await page.isVisible('[data-field="error"]'));
    await checkScreen(page, findings, 'wrong-password', lang);

    await page.fill('input[name="password"]', CAROL.password);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(await page.getAttribute('#qrl', 'data-state'), 'linked');
    await checkScreen(page, findings, 'linked', lang);
    await context.close();
  }
  console.log(`link page: ${findings.checked} axe runs`);
  const report = findings.report();
  assert.equal(report, '', report);
});
