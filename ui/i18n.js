// UI chrome strings in zh-CN and en. Tips are NOT here: they come from Rust (already localized and
// sanitized), so the wording the server's app configures always wins over ours.

export const LANGS = ['zh-CN', 'en'];
export const DEFAULT_LANG = 'zh-CN';

const STRINGS = {
  en: {
    title: 'Sign in with your phone',
    step1: 'Open the app on your phone',
    step2: 'Tap Scan and point it at this code',
    step3: 'Confirm the sign-in on your phone',
    // The `device` dialect (RFC 8628): the QR is a web address any phone camera opens.
    step1Device: 'Open the camera on your phone',
    step2Device: 'Point it at this code and open the sign-in page',
    step3Device: 'Sign in there and approve this computer',
    cantScan: "Can't scan?",
    linkHelp: 'Open this link on the phone where you are signed in:',
    linkHelpToo: 'Or open this link on that phone:',
    typeCodeHelp: 'On a phone where you are signed in, open this address in the browser and enter the code below:',
    cantScanWords: 'Scan this code with the app on your phone (its Scan button). If it does not read: make this window bigger, turn the screen brighter, hold the phone 20–30 cm away, and check that you use the right app.',
    cantScanWordsDevice: 'Scan this code with the camera on your phone. If it does not read: make this window bigger, turn the screen brighter and hold the phone 20–30 cm away, or open the address below in any browser and enter the code.',
    copyLink: 'Copy link',
    copied: 'Copied',
    copyManually: 'Link selected: press Ctrl+C to copy it',
    retry: 'Retry',
    signOut: 'Sign out',
    signedOut: 'Signed out.',
    signedOutPending: 'Signed out on this computer; the server will be told when it can be reached.',
    signedOutLocal: 'Signed out on this computer (this server cannot end sessions remotely).',
    sessionEnded: 'Your session ended. Sign in again.',
    configRefused: 'The config edit was not applied (the previous settings stay): {error}',
    configRestart: 'Config saved; {keys} take effect when the app restarts.',
    kioskWarning: 'Signing out in {n} s — touch to stay',
    demoAccount: 'Demo account',
    demoUsername: 'Username',
    demoPassword: 'Password',
    lan: 'Use on phones in this network (LAN)',
    language: 'Language',
    expiresIn: 'Expires in {n} s',
    checkCode: 'Check code: confirm that your phone shows {code}',
    userCode: 'Code: {code} (your phone shows it, or enter it on the sign-in page)',
    scannedBy: 'Scanned by {name}',
    sessionExpires: 'Session expires {time}',
    retryingIn: 'Retrying in {n} s (attempt {k})',
    retryingQuietly: 'Still trying by itself: next try in {n} s',
    qrAlt: "QR code to sign in. Can't scan? Use the link below.",
    signedInAs: 'Signed in',
    username: 'Username',
    email: 'Email',
    phone: 'Phone',
    // Status lines, announced by #status (aria-live="polite").
    statusLoading: 'Getting a sign-in code…',
    statusWaiting: 'QR code ready. Scan it with your phone.',
    statusNewCode: 'A new QR code is shown.',
    statusScanned: 'Scanned by {name}. Confirm the sign-in on your phone.',
    statusAuthorized: 'Confirmed. Signing you in…',
    statusProfile: 'Signed in as {name}.',
    statusCancelled: 'The sign-in was cancelled on the phone.',
    statusExpired: 'The QR code expired.',
    statusRefreshing: 'Getting a new QR code…',
    statusFailed: 'Sign-in failed.',
    statusRetrying: 'A problem reaching the sign-in server; retrying by itself.',
    statusSignedOut: 'Signed out.',
    someone: 'someone',
  },
  'zh-CN': {
    title: '手机扫码登录',
    step1: '在手机上打开应用',
    step2: '点击“扫一扫”，对准此二维码',
    step3: '在手机上确认登录',
    step1Device: '打开手机相机',
    step2Device: '对准此二维码，打开登录页面',
    step3Device: '在页面上登录并批准这台电脑',
    cantScan: '无法扫码？',
    linkHelp: '在已登录的手机上打开此链接：',
    linkHelpToo: '或在这台手机上打开此链接：',
    typeCodeHelp: '在已登录的手机浏览器中打开此地址，输入下方代码：',
    cantScanWords: '请用手机上的应用（它的“扫一扫”）扫描此二维码。扫不出来时：把窗口放大、调亮屏幕，让手机离屏幕 20–30 厘米，并确认用的是正确的应用。',
    cantScanWordsDevice: '请用手机相机扫描此二维码。扫不出来时：把窗口放大、调亮屏幕，让手机离屏幕 20–30 厘米，或在任意浏览器中打开下方地址并输入代码。',
    copyLink: '复制链接',
    copied: '已复制',
    copyManually: '链接已选中，请按 Ctrl+C 复制',
    retry: '重试',
    signOut: '退出登录',
    signedOut: '已退出登录。',
    signedOutPending: '已在此电脑上退出登录；服务器可连接时会收到通知。',
    signedOutLocal: '已在此电脑上退出登录（此服务器无法远程结束会话）。',
    sessionEnded: '会话已结束，请重新登录。',
    configRefused: '配置修改未生效（仍使用之前的设置）：{error}',
    configRestart: '配置已保存；{keys} 将在应用重启后生效。',
    kioskWarning: '{n} 秒后将退出登录，轻触屏幕以继续使用',
    demoAccount: '演示账号',
    demoUsername: '用户名',
    demoPassword: '密码',
    lan: '允许同一局域网内的手机使用（LAN）',
    language: '语言',
    expiresIn: '{n} 秒后过期',
    checkCode: '校验码：请确认手机上显示的是 {code}',
    userCode: '代码：{code}（手机上会显示，或在登录页面输入）',
    scannedBy: '{name} 已扫码',
    sessionExpires: '登录有效期至 {time}',
    retryingIn: '{n} 秒后重试（第 {k} 次）',
    retryingQuietly: '仍在自动重试：{n} 秒后再试',
    qrAlt: '用于登录的二维码。无法扫码？请使用下方的链接。',
    signedInAs: '已登录',
    username: '用户名',
    email: '邮箱',
    phone: '手机号',
    statusLoading: '正在获取二维码…',
    statusWaiting: '二维码已就绪，请用手机扫码。',
    statusNewCode: '二维码已刷新。',
    statusScanned: '{name} 已扫码，请在手机上确认登录。',
    statusAuthorized: '已确认，正在登录…',
    statusProfile: '已登录：{name}。',
    statusCancelled: '已在手机上取消登录。',
    statusExpired: '二维码已过期。',
    statusRefreshing: '正在刷新二维码…',
    statusFailed: '登录失败。',
    statusRetrying: '连接登录服务器时出现问题，正在自动重试。',
    statusSignedOut: '已退出登录。',
    someone: '用户',
  },
};

/** Maps whatever the shell or the OS says ("zh", "zh-Hans-CN", "en-US") onto one we have. */
export function normalizeLang(lang) {
  const l = String(lang || '').toLowerCase();
  if (l.startsWith('zh')) return 'zh-CN';
  if (l.startsWith('en')) return 'en';
  return DEFAULT_LANG;
}

/**
 * The string `key` in `lang`, with `{name}` placeholders filled from `vars`. Returns plain text:
 * callers put it in textContent, so a nickname in `vars` can never become markup.
 */
export function t(lang, key, vars = {}) {
  const table = STRINGS[normalizeLang(lang)];
  const template = table[key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/**
 * Splits a template around one placeholder, so a live element (a countdown, a bold code) can sit
 * inside a translated sentence whatever the word order of the language.
 */
export function splitAround(lang, key, placeholder) {
  const text = t(lang, key);
  const mark = `{${placeholder}}`;
  const at = text.indexOf(mark);
  if (at < 0) return [text, ''];
  return [text.slice(0, at), text.slice(at + mark.length)];
}
