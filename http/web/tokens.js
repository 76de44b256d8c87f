// The API Tokens screen: the list of the user's tokens (live and expired apart, search, sort),
// showing and copying codes, deleting. The add/edit dialog lives in token_dialog.js.
import { $, fill, h, icon } from './dom.js';
import { api, describeError } from './api.js';
import { confirmDialog, confirmPassword, setupReauthDialog } from './dialogs.js';
import { timeEl } from './format.js';
import { rerender, setView } from './nav.js';
import { announce, toast } from './notify.js';
import { renderGen, state } from './state.js';
import { isExpired, openTokenDialog, setupTokenForm } from './token_dialog.js';

const view = { search: '', sort: 'expires' };   // kept while the screen is re-rendered

export async function renderTokens(gen) {
  const status = h('div', { class: 'status', 'data-testid': 'tokens-status' }, h('p', { class: 'loading', text: 'Loading tokens…' }));
  setView('API Tokens', 'tokens-view',
    h('div', { class: 'view-head' }, h('h1', { text: 'API Tokens' }),
      h('button', { type: 'button', class: 'primary', 'data-testid': 'add-token', onclick: (ev) => openTokenDialog(null, ev.currentTarget) }, '+ Add Token')),
    h('p', { class: 'lead', text: 'Tokens let your scripts and integrations call the API as you. Every time a code is shown, the audit log records it.' }),
    status, h('div', { id: 'tokens-body' }));
  try {
    const { data } = await api('GET', '/api/v1/tokens');
    if (gen !== renderGen) return;
    state.tokens = data.tokens || [];
    status.replaceChildren();
    renderTokenTable();
  } catch (e) {
    if (gen !== renderGen || e.status === 401) return;
    status.replaceChildren(h('p', { class: 'form-error', role: 'alert', text: `Could not load your tokens. ${describeError(e)}` }),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'retry', onclick: () => rerender() }, 'Retry'));
  }
}

const SORTS = {
  expires: ['Expiry (soonest first)', (a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at)],
  last_used: ['Last use (latest first)', (a, b) => (Date.parse(b.last_used_at) || 0) - (Date.parse(a.last_used_at) || 0)],
  created: ['Created (newest first)', (a, b) => Date.parse(b.created_at) - Date.parse(a.created_at)],
};
function tools() {
  const search = h('input', { id: 'token-search', type: 'search', 'data-testid': 'token-search', autocomplete: 'off', value: view.search });
  search.addEventListener('input', () => { view.search = search.value; renderTokenTable(); });
  const sort = h('select', { id: 'token-sort', 'data-testid': 'token-sort' },
    Object.entries(SORTS).map(([k, [label]]) => h('option', { value: k, selected: view.sort === k, text: label })));
  sort.addEventListener('change', () => { view.sort = sort.value; renderTokenTable(); sort.focus(); });
  return h('div', { class: 'table-tools token-tools' },
    h('div', { class: 'field' }, h('label', { for: 'token-search' }, 'Search descriptions'), search),
    h('div', { class: 'field' }, h('label', { for: 'token-sort' }, 'Sort by'), sort));
}

export function renderTokenTable() {
  const body = $('#tokens-body');
  if (!body) return;
  if (!state.tokens.length) {
    body.replaceChildren(h('div', { class: 'empty', 'data-testid': 'tokens-empty' },
      h('p', { class: 'empty-title', text: 'You have no API tokens yet.' }),
      h('p', { text: 'Use “Add Token” to create one for a script or an integration.' })));
    return;
  }
  const hadFocus = document.activeElement?.id === 'token-search';
  const q = view.search.trim().toLowerCase();
  const shown = state.tokens.filter((t) => !q || t.description.toLowerCase().includes(q)).sort(SORTS[view.sort][1]);
  // Descriptions used by more than one token get the end of the id next to them.
  const count = new Map();
  for (const t of state.tokens) count.set(t.description, (count.get(t.description) || 0) + 1);
  const live = shown.filter((t) => !isExpired(t));
  const expired = shown.filter(isExpired);
  fill(body, tools(),
    h('p', { class: 'sr-only', role: 'status', 'data-testid': 'tokens-count', text: q ? `${shown.length} of ${state.tokens.length} tokens match.` : '' }),
    live.length ? table('Your API tokens', live, count, 'tokens-table')
      : h('p', { class: 'empty', 'data-testid': 'tokens-none-live', text: q ? 'No live token matches the search.' : 'You have no live tokens.' }),
    expired.length ? h('section', { class: 'expired-section', 'aria-labelledby': 'expired-title' },
      h('h2', { id: 'expired-title', text: `Expired (${expired.length})` }),
      h('p', { class: 'hint', text: 'These no longer work anywhere. You can still show their codes (to find where one was used) and delete them.' }),
      table('Expired API tokens', expired, count, 'expired-table')) : null);
  if (hadFocus) { const s = $('#token-search'); s.focus(); s.setSelectionRange(s.value.length, s.value.length); }
}
function table(caption, tokens, count, testid) {
  return h('table', { class: 'data tokens', 'data-testid': testid },
    h('caption', { class: 'sr-only', text: caption }),
    h('thead', {}, h('tr', {}, ['Description', 'Created', 'Expires', 'Last used'].map((t) => h('th', { scope: 'col', text: t })),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    tokens.map((t) => tokenRow(t, count.get(t.description) > 1)));
}
// Not yet expired, but expiring within SOON_DAYS: worth a warning next to the expiry.
const SOON_DAYS = 7;
function expiresSoon(t) {
  const left = Date.parse(t.expires_at) - Date.now();
  return !isExpired(t) && left > 0 && left <= SOON_DAYS * 86_400_000;
}
function expiryBadge(t) {
  if (isExpired(t)) return h('span', { class: 'badge badge-expired', 'data-testid': 'expired-badge', text: 'Expired' });
  if (!expiresSoon(t)) return null;
  const hours = Math.max(1, Math.round((Date.parse(t.expires_at) - Date.now()) / 3_600_000));
  const left = hours < 48 ? `${hours} hour${hours === 1 ? '' : 's'}` : `${Math.round(hours / 24)} days`;
  return h('span', { class: 'badge badge-expiring', 'data-testid': 'expiring-badge', title: `Expires in about ${left}`, text: 'Expires soon' });
}
// When and from where the code was last presented (introspection or an API call with it as a Bearer token).
function lastUsed(t) {
  if (!t.last_used_at) return h('span', { class: 'muted', text: 'Never used' });
  return h('div', { class: 'last-used' }, timeEl(t.last_used_at),
    t.last_used_ip ? h('div', { class: 'muted last-used-ip', text: `from ${t.last_used_ip}` }) : null);
}
const shortId = (id) => id.slice(-6);
// One <tbody> per token: its row, and under it (full width) the code while shown.
function tokenRow(t, dup) {
  const code = state.revealed.get(t.id);
  const expired = isExpired(t);
  const name = dup ? `${t.description} (${shortId(t.id)})` : t.description;
  return h('tbody', { 'data-testid': 'token-row', 'data-token-id': t.id, class: expired ? 'token expired' : 'token' },
    h('tr', {},
      h('td', { 'data-label': 'Description', class: 'desc' }, h('span', { 'data-testid': 'token-description', text: t.description }),
        dup ? h('span', { class: 'id-hint', 'data-testid': 'token-short-id', title: t.id, text: ` …${shortId(t.id)}` }) : null),
      h('td', { 'data-label': 'Created', 'data-testid': 'token-created' }, timeEl(t.created_at)),
      h('td', { 'data-label': 'Expires', 'data-testid': 'token-expires' }, timeEl(t.expires_at), expiryBadge(t)),
      h('td', { 'data-label': 'Last used', 'data-testid': 'token-last-used' }, lastUsed(t)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary small', 'data-testid': 'show-toggle', 'aria-expanded': code ? 'true' : 'false',
          'aria-label': `${code ? 'Hide' : 'Show'} code of ${name}`, onclick: (ev) => toggleReveal(t, ev.currentTarget) }, code ? 'Hide' : 'Show'),
        h('a', { href: `#/history/${encodeURIComponent(t.id)}`, class: 'history-link', 'data-testid': 'token-history', 'aria-label': `History of ${name}` }, 'History'),
        expired ? null : h('button', { type: 'button', class: 'icon-button', 'data-testid': 'edit-token', 'aria-label': `Edit ${name}`,
          title: 'Edit description or expiry', onclick: (ev) => openTokenDialog(t, ev.currentTarget) }, icon('pencil')),
        h('button', { type: 'button', class: 'icon-button danger', 'data-testid': 'delete-token', 'aria-label': `Delete ${name}`, title: 'Delete',
          onclick: (ev) => confirmDeleteToken(t, ev.currentTarget) }, icon('trash')))),
    code ? h('tr', { class: 'code-row' }, h('td', { colspan: '5', 'data-label': 'Code' }, h('div', { class: 'code-wrap' },
      h('code', { class: 'code revealed', 'data-testid': 'token-code' }, code),
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'copy-code', 'aria-label': `Copy code of ${name}`,
        onclick: (ev) => copyCode(code, ev.currentTarget) }, icon('copy'), 'Copy')))) : null);
}
// Re-render one token and put the focus back on the same control.
export function refreshRow(id, focusTestid) {
  const old = document.querySelector(`tbody[data-token-id="${CSS.escape(id)}"]`);
  const t = state.tokens.find((x) => x.id === id);
  if (!old || !t) return;
  const row = tokenRow(t, state.tokens.filter((x) => x.description === t.description).length > 1);
  old.replaceWith(row);
  if (focusTestid) row.querySelector(`[data-testid="${focusTestid}"]`)?.focus();
}
export function dropToken(id) {
  state.tokens = state.tokens.filter((x) => x.id !== id);
  state.revealed.delete(id);
  renderTokenTable();
}
async function toggleReveal(t, button) {
  if (state.revealed.has(t.id)) { state.revealed.delete(t.id); refreshRow(t.id, 'show-toggle'); return; }
  setBusy(button, true);
  try {
    const code = await revealCode(t, button);
    if (code == null) { setBusy(button, false); return; } // "Confirm it's you" was cancelled: nothing is shown
    state.revealed.set(t.id, code);
    refreshRow(t.id, 'show-toggle');
    announce('Code shown. Showing it has been recorded in the audit log.');
  } catch (e) {
    setBusy(button, false);
    if (e.status === 401) return;
    if (e.status === 404) { toast('That token no longer exists.', button, 'info'); dropToken(t.id); return; }
    toast(`Could not show the code. ${describeError(e)}`, button, 'error');
  }
}
function setBusy(button, on) {
  button.disabled = on;
  if (on) button.setAttribute('aria-busy', 'true'); else button.removeAttribute('aria-busy');
}
// The code of token t. When the server wants the password again first (it was typed too long ago),
// "Confirm it's you" asks for it and the reveal is retried; null when that dialog is cancelled.
// The Show button is usable while the dialog is open, so the focus can return to it.
async function revealCode(t, button) {
  const path = `/api/v1/tokens/${encodeURIComponent(t.id)}/reveal`;
  try {
    return (await api('POST', path)).data.token;
  } catch (e) {
    if (e.status !== 403 || e.code !== 'reauthentication_required') throw e;
  }
  setBusy(button, false);
  if (!(await confirmPassword(state.me?.user, button)) || !button.isConnected) return null;
  setBusy(button, true);
  return (await api('POST', path)).data.token;
}
// The button keeps its name ("Copy code of …"); the outcome is a toast beside it.
async function copyCode(code, button) {
  let ok = false;
  try { await navigator.clipboard.writeText(code); ok = true; } catch { ok = false; }
  if (!ok) {
    const codeEl = button.closest('td').querySelector('code');
    const range = document.createRange();
    range.selectNodeContents(codeEl);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  toast(ok ? 'Code copied to the clipboard.' : 'The code is selected; press Ctrl+C to copy it.', button, ok ? 'success' : 'info');
}

function confirmDeleteToken(t, button) {
  const expired = isExpired(t);
  const text = expired
    ? `Delete “${t.description}”? It has already expired, so nothing can use it any more; deleting removes it from this list. This cannot be undone.`
    : `Delete “${t.description}”? Scripts that use it stop working at once. This cannot be undone.`;
  confirmDialog('Delete token?', text, async () => {
    try { await api('DELETE', `/api/v1/tokens/${encodeURIComponent(t.id)}`); } catch (e) { if (e.status !== 404) throw e; }
    $('#confirm-dialog').returnFocus = $('[data-testid="add-token"]');
    dropToken(t.id);
    toast(`Token “${t.description}” deleted.`, $('[data-testid="add-token"]'));
  }, button);
}

export function setupTokenDialog() {
  setupTokenForm();
  setupReauthDialog();
}
