// Per-browser display settings (localStorage): times in UTC, and a theme that overrides the system's.
// Neither is sent to the server; both fall back to the defaults when storage is unavailable.
const KEY_UTC = 'tokenledger.utc';
const KEY_THEME = 'tokenledger.theme';

function read(key) { try { return localStorage.getItem(key); } catch { return null; } }
function write(key, v) { try { if (v == null) localStorage.removeItem(key); else localStorage.setItem(key, v); } catch { /* private mode */ } }

export function useUtc() { return read(KEY_UTC) === '1'; }
export function setUseUtc(on) { write(KEY_UTC, on ? '1' : null); }

// 'dark' | 'light': the explicit choice if one was made, else what the system prefers.
export function theme() {
  const t = read(KEY_THEME);
  if (t === 'dark' || t === 'light') return t;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
export function setTheme(t) { write(KEY_THEME, t); applyTheme(); }
// <html data-theme> drives the CSS variables; without a stored choice it follows the system live.
export function applyTheme() { document.documentElement.dataset.theme = theme(); }
export function watchSystemTheme() {
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', applyTheme);
}
