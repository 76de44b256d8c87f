// Times: showing them with their zone (local, or UTC when chosen in the menu) and converting
// datetime-local input values.
import { h } from './dom.js';
import { useUtc } from './prefs.js';

function fmt(precise, utc) {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: precise ? 'medium' : 'short', timeZone: utc ? 'UTC' : undefined });
}
// "Dec 15, 2026, 2:02 PM" plus the zone ("CET" or "UTC"): dateStyle cannot be combined with timeZoneName.
export function formatTime(d, precise = false) {
  const utc = useUtc();
  const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short', timeZone: utc ? 'UTC' : undefined })
    .formatToParts(d).find((p) => p.type === 'timeZoneName')?.value || '';
  return `${fmt(precise, utc).format(d)} ${zone}`.trim();
}
// "Mon 15 Dec 2026, 14:02 CET": the expiry preview of the token dialog.
export function formatLongDate(d) {
  const utc = useUtc();
  return new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric',
    minute: '2-digit', timeZoneName: 'short', timeZone: utc ? 'UTC' : undefined }).format(d);
}

// A <time> with its zone; the UTC value is in the title (shown on hover).
export function timeEl(iso, precise = false) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return h('span', { text: iso || '—' });
  const utc = d.toISOString().replace('T', ' ').replace('Z', ' UTC');
  return h('time', { datetime: d.toISOString(), title: utc }, formatTime(d, precise));
}

// datetime-local (minutes, local time) -> RFC 3339 UTC; `endOfMinute` makes "until 10:05" include 10:05:59.999.
export function localInputToIso(v, endOfMinute = false) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : new Date(d.getTime() + (endOfMinute ? 59_999 : 0)).toISOString();
}

export function isoToLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
