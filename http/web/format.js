// Times: showing them in the local time zone and converting datetime-local input values.
import { h } from './dom.js';

const dtShort = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dtLong = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

// A <time> in the local time zone; the UTC value is in the title (shown on hover).
export function timeEl(iso, precise = false) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return h('span', { text: iso || '—' });
  const utc = d.toISOString().replace('T', ' ').replace('Z', ' UTC');
  return h('time', { datetime: d.toISOString(), title: utc }, (precise ? dtLong : dtShort).format(d));
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
