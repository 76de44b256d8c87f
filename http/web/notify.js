// Messages to the user: the error banner at the top, toasts next to the control that acted, and
// announcements for screen readers.
import { $ } from './dom.js';

export function announce(msg) { const live = $('#live'); live.textContent = ''; setTimeout(() => { live.textContent = msg; }, 30); }

let bannerTimer = 0;
export function showBanner(msg, kind = 'error') {
  const b = $('#banner');
  $('#banner-text').textContent = msg;
  b.className = `banner ${kind}`;
  b.dataset.kind = kind;
  b.hidden = false;
  clearTimeout(bannerTimer);
  if (kind !== 'error') bannerTimer = setTimeout(hideBanner, 6000);
}
export function hideBanner() { $('#banner').hidden = true; }

// A toast: #toast is a role="status" region that is always in the page (empty and without size when
// idle, so screen readers announce what is put in it), floated (position: fixed) next to `anchor` so
// nothing on the page moves. Without an anchor, or when the anchor is gone, it sits under the header.
// Stays 6 s, longer while the pointer is on it.
let toastTimer = 0;
export function toast(msg, anchor = null, kind = 'success') {
  const t = $('#toast');
  t.dataset.kind = kind;
  t.textContent = msg;
  t.style.right = 'auto'; // placed by left/top below; measured at its own width first
  t.style.left = '0px';
  const r = anchor?.isConnected ? anchor.getBoundingClientRect() : null;
  const w = Math.min(t.offsetWidth || 320, window.innerWidth - 16);
  const top = r && r.bottom > 0 && r.bottom < window.innerHeight - 60 ? r.bottom + 6 : 68;
  const left = r ? Math.min(Math.max(8, r.right - w), window.innerWidth - w - 8) : window.innerWidth - w - 16;
  t.style.top = `${Math.round(top)}px`;
  t.style.left = `${Math.round(Math.max(8, left))}px`;
  clearTimeout(toastTimer);
  const hide = () => { if (t.matches(':hover')) toastTimer = setTimeout(hide, 2000); else t.textContent = ''; };
  toastTimer = setTimeout(hide, 6000);
}
