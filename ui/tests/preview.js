// Preview harness: shows any state of the real page without Rust. It copies ../index.html's body
// into this page, installs a fake window.__TAURI__ whose start_login replays a scenario's events,
// then imports the real app.js. Query: ?state=<scenario>&lang=en|zh-CN&kiosk=1

const params = new URLSearchParams(location.search);
const scenario = params.get('state') ?? 'waiting';
const lang = params.get('lang') ?? 'en';
const kiosk = params.get('kiosk') === '1' || scenario === 'kiosk-warning';

/** A QR-looking SVG (finder patterns + seeded noise): enough to judge the layout, not scannable. */
function fakeQr(seed) {
  const n = 29;
  let x = seed * 2654435761 >>> 0;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 1;
  const cells = [];
  const finder = (r, c) => {
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) {
      const ring = Math.max(Math.abs(i - 3), Math.abs(j - 3));
      if (ring !== 2) cells.push([r + i, c + j]);
    }
  };
  const inFinder = (r, c) => (r < 8 && c < 8) || (r < 8 && c >= n - 8) || (r >= n - 8 && c < 8);
  finder(0, 0); finder(0, n - 7); finder(n - 7, 0);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (!inFinder(r, c) && rand()) cells.push([r, c]);
  const q = 4; // quiet zone, as the core draws it
  const path = cells.map(([r, c]) => `M${c + q} ${r + q}h1v1h-1z`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n + 2 * q} ${n + 2 * q}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
  return 'data:image/svg+xml;base64,' + btoa(svg);
}

function fakeAvatar(letter, hue) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},70%,62%)"/><stop offset="1" stop-color="hsl(${hue + 40},70%,42%)"/></linearGradient></defs><rect width="96" height="96" fill="url(#g)"/><circle cx="48" cy="38" r="17" fill="#fff" opacity=".9"/><path d="M16 92c4-20 18-30 32-30s28 10 32 30z" fill="#fff" opacity=".9"/></svg>`;
  return 'data:image/svg+xml;base64,' + btoa(svg);
}

const zh = lang === 'zh-CN';
const TIPS = {
  title: zh ? '使用 <strong>qrlogin</strong> App 扫码登录' : 'Scan with the <strong>qrlogin</strong> app to sign in',
  scanned: zh ? '扫码成功，请在手机上确认' : 'Scanned. Confirm on your phone',
  success: zh ? '扫码成功' : 'Confirmed',
  cancelled: zh ? '用户取消授权' : 'Sign-in was cancelled on the phone',
  expired: zh ? '二维码已过期' : 'QR code has expired',
  retry: zh ? '刷新二维码' : 'Get a new code',
  failed: zh ? '网络出错，请重试' : 'Network error, please retry',
};

const qr = (generation = 1, extra = {}) => ({
  event: 'qrReady',
  data: {
    svg: fakeQr(generation), png: null, text: 'http://192.168.1.20:8417/s/Xk3p9QfT2mLw',
    expiresAt: Date.now() + 87_000, ttlMs: 120_000, checkCode: null, generation, tipHtml: TIPS.title, ...extra,
  },
});
const PROFILE = {
  id: 'u_1', username: 'alice', nickname: zh ? '爱丽丝' : 'Alice Liddell', email: 'alice@example.com',
  phone: '+86 138 0013 8000', avatar: params.get('avatar') === '0' ? null : fakeAvatar('A', 200),
  expiresAt: Date.now() + 14 * 86_400_000,
};

const UNREACHABLE = zh ? '无法连接登录服务器（127.0.0.1:8417：连接被拒绝）' : 'cannot reach the sign-in server (127.0.0.1:8417: connection refused)';
function retrying(attempt, background) {
  return { event: 'retrying', data: { attempt, delayMs: background ? 60_000 : 8_000, kind: 'network', problem: 'unreachable',
    message: UNREACHABLE, background, tipHtml: TIPS.failed, retryTipHtml: TIPS.retry } };
}

const SCENARIOS = {
  loading: [{ event: 'starting', data: { attempt: 1 } }],
  waiting: [qr()],
  'check-code': [qr(1, { checkCode: '42' })],
  scanned: [qr(1, { checkCode: '42' }), { event: 'scanned', data: { nickname: zh ? '爱丽丝' : 'Alice Liddell', avatar: fakeAvatar('A', 200), tipHtml: TIPS.scanned } }],
  'scanned-hostile': [qr(), { event: 'scanned', data: { nickname: '<img src=x onerror=alert(1)>', avatar: 'http://evil.example/a.png', tipHtml: TIPS.scanned } }],
  authorized: [qr(), { event: 'scanned', data: { nickname: 'Alice', avatar: null, tipHtml: TIPS.scanned } }, { event: 'authorized', data: { tipHtml: TIPS.success } }],
  profile: [qr(), { event: 'loggedIn', data: { profile: PROFILE, tipHtml: TIPS.success } }],
  cancelled: [qr(), { event: 'cancelled', data: { tipHtml: TIPS.cancelled, retryTipHtml: TIPS.retry, refreshing: false } }],
  refreshing: [qr(), { event: 'expired', data: { tipHtml: TIPS.expired, retryTipHtml: TIPS.retry, refreshing: true } }],
  expired: [qr(), { event: 'expired', data: { tipHtml: TIPS.expired, retryTipHtml: TIPS.retry, refreshing: false } }],
  // The engine retries by itself first (the retrying view), then shows Retry and goes on
  // quietly in the background (contracts.md §3 and §6).
  retrying: [qr(), retrying(2, false)],
  failed: [{ event: 'failed', data: { kind: 'network', message: UNREACHABLE, retryable: true, tipHtml: TIPS.failed, retryTipHtml: TIPS.retry } },
    retrying(7, true)],
  'kiosk-warning': [qr(), { event: 'loggedIn', data: { profile: PROFILE, tipHtml: TIPS.success } }],
  // Replays a full sign-in slowly, including a code refresh with its cross-fade.
  story: [qr(1), 'wait', { event: 'expired', data: { tipHtml: TIPS.expired, retryTipHtml: TIPS.retry, refreshing: true } }, 'wait', qr(2),
    'wait', { event: 'scanned', data: { nickname: 'Alice', avatar: fakeAvatar('A', 200), tipHtml: TIPS.scanned } }, 'wait',
    { event: 'authorized', data: { tipHtml: TIPS.success } }, 'wait', { event: 'loggedIn', data: { profile: PROFILE, tipHtml: TIPS.success } }],
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// For the accessibility tier (ui/a11y/): which states exist, and when this one is on screen.
window.__previewScenarios = Object.keys(SCENARIOS);

async function replay(channel) {
  for (const step of SCENARIOS[scenario] ?? SCENARIOS.waiting) {
    if (step === 'wait') await sleep(1500);
    else channel.onmessage(step);
  }
  document.documentElement.dataset.replayed = scenario;
}

function installFakeTauri() {
  let info = {
    version: '0.1.0-preview', lang,
    kiosk: { enabled: kiosk, idleSignOutSecs: scenario === 'kiosk-warning' ? 11 : 120, warnSecs: 10 },
    server: { embedded: true, lan: false, url: 'http://127.0.0.1:8417', dialect: 'g3' }, demo: true,
  };
  let replayed = false;
  window.__TAURI__ = {
    core: {
      Channel: class { constructor() { this.onmessage = null; } },
      async invoke(cmd, args) {
        console.log('invoke', cmd, args);
        switch (cmd) {
          case 'app_info': return info;
          case 'restore_session': return null;
          case 'start_login':
            // The scenario plays once; later logins (retry, language) just show a fresh code.
            if (replayed) queueMicrotask(() => args.onEvent.onmessage(qr(1)));
            else queueMicrotask(() => replay(args.onEvent));
            replayed = true;
            return null;
          case 'demo_credentials': return { username: 'demo', password: 'demo-7Hq2' };
          case 'set_lan': info = { ...info, server: { ...info.server, lan: args.enabled } }; return info;
          default: return null;
        }
      },
    },
  };
}

async function main() {
  // Synchronous on purpose: headless Chromium's --virtual-time-budget does not wait for fetch() on
  // file://, so an async load made screenshots of the bare, unstarted page.
  const xhr = new XMLHttpRequest();
  xhr.open('GET', '../index.html', false);
  xhr.send();
  const html = xhr.responseText;
  const page = new DOMParser().parseFromString(html, 'text/html');
  document.body.replaceWith(document.importNode(page.body, true));
  installFakeTauri();
  await import('../app.js');
  if (params.get('demo') === '1') setTimeout(() => document.getElementById('demo-show').click(), 300);
  if (params.get('link') === '1') setTimeout(() => document.getElementById('cant-scan').click(), 300);
}

main();

// ?debug=1: after the scenario, write the main boxes' geometry into the page (for --dump-dom).
if (params.get('debug') === '1') {
  setTimeout(() => {
    const rect = (id) => { const r = document.getElementById(id)?.getBoundingClientRect(); return r && [r.x, r.y, r.width, r.height].map(Math.round); };
    const pre = document.createElement('pre');
    pre.id = 'debug';
    pre.textContent = JSON.stringify({ state: document.body.dataset.state, inner: [innerWidth, innerHeight], qr: rect('qr'), prev: rect('qr-prev'), qrHidden: document.getElementById('qr').hidden, box: rect('qr-box'), card: rect('login') });
    document.body.append(pre);
  }, 1500);
}
