// The one file that touches window.__TAURI__: one async function per shell command
// (docs/contracts.md §4). Everything else imports these, so tests and the preview page can fake
// the shell by installing a fake window.__TAURI__ and nothing more.

// Looked up on every call (not cached at import) so a test can install its fake after importing.
function core() {
  const tauri = globalThis.window?.__TAURI__ ?? globalThis.__TAURI__;
  if (!tauri?.core) throw { kind: 'config', message: 'Not running inside the qrlogin app (no Tauri bridge).' };
  return tauri.core;
}

function invoke(command, args) {
  return core().invoke(command, args);
}

/**
 * `{version, lang, kiosk: {enabled, idleSignOutSecs, warnSecs}, server: {embedded, lan, url, dialect},
 * demo, remembered, loginStarted}`. With `onEvent`, nothing remembered also starts the login: its
 * LoginEvents go to `onEvent` as after startLogin, and `loginStarted` is true.
 */
export async function appInfo(onEvent) {
  if (!onEvent) return invoke('app_info');
  const channel = new (core().Channel)();
  channel.onmessage = onEvent;
  return invoke('app_info', { onEvent: channel });
}

/** The remembered profile if its token is still good, else null. */
export async function restoreSession() {
  return invoke('restore_session');
}

/**
 * Starts a login attempt (the shell cancels any attempt in flight). LoginEvents (contracts.md §3)
 * arrive on a fresh Channel, one call of `onEvent(event)` each.
 */
export async function startLogin(onEvent) {
  const channel = new (core().Channel)();
  channel.onmessage = onEvent;
  return invoke('start_login', { onEvent: channel });
}

export async function cancelLogin() {
  return invoke('cancel_login');
}

/**
 * Signs out here at once and at the server when it answers. `reason` is `button` or `idle`.
 * Resolves to `{server}`: `revoked` | `pending` (told later) | `localOnly` | null (nobody was in).
 */
export async function signOut(reason = 'button') {
  return invoke('sign_out', { reason });
}

/**
 * Calls `callback({reason})` whenever the shell says the server ended the session (a refused
 * refresh, a revoked remembered session). Resolves to an unsubscribe function.
 */
export async function onSessionEnded(callback) {
  return listen('session-ended', callback);
}

/** Calls `callback()` when a sign-out queued while the server was unreachable reached it. */
export async function onRevocationDelivered(callback) {
  return listen('revocation-delivered', callback);
}

/** Calls `callback({expiresAt})` after the shell refreshed the session in the background. */
export async function onSessionRefreshed(callback) {
  return listen('session-refreshed', callback);
}

/**
 * Calls `callback({applied, error, restart, tips})` after each edit of a config file: `applied`
 * false = refused (`error` says why, the old settings stay); `tips` = `{event, tipHtml,
 * retryTipHtml}`, the tips on screen worded anew (sanitized by Rust); `restart` = changed keys that
 * wait for the next start.
 */
export async function onConfigReloaded(callback) {
  return listen('config-reloaded', callback);
}

async function listen(name, callback) {
  const tauri = globalThis.window?.__TAURI__ ?? globalThis.__TAURI__;
  if (!tauri?.event?.listen) return () => {};
  return tauri.event.listen(name, (e) => callback(e?.payload ?? {}));
}

/** `{username, password}`; only the embedded demo server has them. */
export async function demoCredentials() {
  return invoke('demo_credentials');
}

/** Returns the new app_info; the caller starts a new login so the QR carries the new address. */
export async function setLan(enabled) {
  return invoke('set_lan', { enabled: Boolean(enabled) });
}

/** `lang` is `zh-CN` or `en`; the next events (tips) come in that language. */
export async function setLang(lang) {
  return invoke('set_lang', { lang });
}

/**
 * Puts `text` on the system clipboard through the shell's clipboard plugin (the only plugin
 * command the window is granted: `clipboard-manager:allow-write-text`), not the webview's
 * `navigator.clipboard`, which WebKitGTK can refuse.
 */
export async function copyText(text) {
  return invoke('plugin:clipboard-manager|write_text', { text: String(text) });
}

/** `what` is `qr` or `profile`: the shell logs paint times for benchmarks. */
export async function uiPainted(what) {
  return invoke('ui_painted', { what });
}

/** A start-up mark the page took `agoMs` ago (benchmarks: make bench's breakdown). */
export async function uiMark(what, agoMs) {
  return invoke('ui_painted', { what, agoMs });
}
