// Messages to the user: the banner at the top and announcements for screen readers.
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
