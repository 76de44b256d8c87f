// The table of audit events, shared by the audit log (auditors) and a token's history (its owner):
// plain-language action names, the token's description at the time with its full id on demand, and
// the details as a key/value list that wraps and scrolls by keyboard.
import { h, icon } from './dom.js';
import { timeEl } from './format.js';
import { announce } from './notify.js';

// Event type -> what people call it. Unknown types (newer servers) are shown as they are.
const ACTION_LABELS = {
  TokenCreated: 'Token created',
  TokenDescriptionChanged: 'Description changed',
  TokenTimeoutChanged: 'Expiry changed',
  TokenRevealed: 'Code shown',
  TokenUsed: 'Code used',
  TokenExpiryNotified: 'Expiry notice sent',
  TokenDeleted: 'Token deleted',
  TokenRolled: 'Code rolled',
  TokenCidrsChanged: 'Allowed addresses changed',
  UserCreated: 'User added',
  UserGroupsChanged: 'Groups changed',
  UserPasswordChanged: 'Password changed',
  UserReauthenticated: 'Password confirmed',
  UserDisabled: 'User disabled',
  UserEnabled: 'User enabled',
  UserDeleted: 'User deleted',
  UserSignedIn: 'Signed in',
  UserSignInFailed: 'Sign-in failed',
  SessionEnded: 'Session ended',
  AccessDenied: 'Access denied',
  AuditRead: 'Trail read',
  AuditExported: 'Trail exported',
  ServerStarted: 'Server started',
  ServerStopped: 'Server stopped',
  KeyCheckRecorded: 'Key check recorded',
  BackupTaken: 'Backup taken',
};
// The types offered in the Action filter: those this server records (issue 18 adds the access
// events). The others above are only named when they appear: the API refuses unknown `type` values.
export const FILTER_TYPES = ['TokenCreated', 'TokenDescriptionChanged', 'TokenTimeoutChanged', 'TokenRevealed', 'TokenUsed',
  'TokenExpiryNotified', 'TokenDeleted', 'UserCreated', 'UserGroupsChanged', 'UserPasswordChanged', 'UserReauthenticated',
  'UserDisabled', 'UserEnabled', 'UserDeleted', 'KeyCheckRecorded', 'BackupTaken', 'UserSignedIn', 'UserSignInFailed',
  'SessionEnded', 'AccessDenied', 'AuditRead', 'AuditExported', 'ServerStarted', 'ServerStopped'];
export function actionLabel(type) { return ACTION_LABELS[type] || type || '—'; }

const dash = (v) => (v == null || v === '' ? '—' : String(v));
// The last characters of an id tell two tokens apart; the full id is one click away.
export function shortId(id) { return id.length > 10 ? `…${id.slice(-6)}` : id; }

function tokenCell(ev) {
  if (!ev.token_id) return '—';
  // Servers before token_description: a creation or description change still names it in its data.
  const desc = ev.token_description ?? ev.data?.description;
  const full = h('span', { class: 'full-id', hidden: true },
    h('code', { class: 'id', 'data-testid': 'audit-token-id', text: ev.token_id }),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Copy id', title: 'Copy id', onclick: async () => {
      try { await navigator.clipboard.writeText(ev.token_id); announce('Id copied.'); } catch { announce('Select the id and press Ctrl+C to copy it.'); }
    } }, icon('copy')));
  const toggle = h('button', { type: 'button', class: 'link-button small-text', 'data-testid': 'audit-token-show-id', 'aria-expanded': 'false',
    onclick: () => { full.hidden = !full.hidden; toggle.setAttribute('aria-expanded', String(!full.hidden)); toggle.textContent = full.hidden ? `Id ${shortId(ev.token_id)}` : 'Hide id'; } },
  `Id ${shortId(ev.token_id)}`);
  return h('div', { class: 'token-cell' },
    desc != null ? h('span', { class: 'token-desc', 'data-testid': 'audit-token-desc', text: desc }) : null,
    h('div', {}, toggle), full);
}

// data.* flattened to "key: value" pairs; nested values as compact JSON.
function detailPairs(ev) {
  const pairs = [];
  for (const [k, v] of Object.entries(ev.data || {})) pairs.push([k, typeof v === 'object' && v !== null ? JSON.stringify(v) : dash(v)]);
  for (const [k, v] of Object.entries(ev.source || {})) pairs.push([`source.${k}`, dash(v)]);
  pairs.push(['stream', dash(ev.stream)], ['version', dash(ev.version)], ['prev_hash', dash(ev.prev_hash)], ['hash', dash(ev.hash)]);
  return pairs;
}
function details(ev) {
  return h('details', {}, h('summary', { text: 'View', 'aria-label': `View details of event ${dash(ev.seq)}` }),
    h('div', { class: 'detail-box', tabindex: '0', role: 'region', 'aria-label': `Details of event ${dash(ev.seq)}`, 'data-testid': 'audit-details' },
      h('dl', { class: 'kv' }, detailPairs(ev).flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]))));
}

export function auditTable(rows) {
  return h('table', { class: 'data audit', 'data-testid': 'audit-table' },
    h('caption', { class: 'sr-only', text: 'Audit events' }),
    h('thead', {}, h('tr', {}, ['#', 'Time', 'Actor', 'Action', 'Token', 'Owner', 'IP', 'Details'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.map((ev) => h('tr', { 'data-testid': 'audit-row', 'data-seq': ev.seq, 'data-type': ev.type },
      h('td', { 'data-label': '#', 'data-testid': 'audit-seq', text: dash(ev.seq) }),
      h('td', { 'data-label': 'Time', 'data-testid': 'audit-time' }, timeEl(ev.at, true)),
      h('td', { 'data-label': 'Actor', 'data-testid': 'audit-actor' }, dash(ev.actor?.user),
        ev.actor?.via ? h('span', { class: 'muted', text: ` via ${ev.actor.via}` }) : null),
      h('td', { 'data-label': 'Action', 'data-testid': 'audit-type', title: ev.type, text: actionLabel(ev.type) }),
      h('td', { 'data-label': 'Token', 'data-testid': 'audit-token' }, tokenCell(ev)),
      h('td', { 'data-label': 'Owner', 'data-testid': 'audit-owner', text: dash(ev.owner) }),
      h('td', { 'data-label': 'IP', 'data-testid': 'audit-ip', text: dash(ev.source?.ip) }),
      h('td', { 'data-label': 'Details', class: 'details-cell' }, details(ev))))));
}
