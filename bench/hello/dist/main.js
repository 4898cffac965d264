// Reports the first paint the same way qrlogin's ui/app.js does: requestAnimationFrame runs
// just before the paint, the zero timeout right after it.
requestAnimationFrame(() =>
  setTimeout(() => window.__TAURI__.core.invoke('painted', { what: 'qr' }).catch(() => {}), 0));
