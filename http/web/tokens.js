// The API Tokens screen: the list of the user's tokens, showing and copying codes, and the add/edit dialog.
import { $, h, icon } from './dom.js';
import { api, describeError, fieldMessage, fieldOf } from './api.js';
import { clearErrors, confirmDialog, confirmPassword, openDialog, setFieldError, setupDialog, setupReauthDialog } from './dialogs.js';
import { timeEl } from './format.js';
import { rerender, setView } from './nav.js';
import { announce, showBanner } from './notify.js';
import { renderGen, state } from './state.js';

export async function renderTokens(gen) {
  const status = h('div', { class: 'status', 'data-testid': 'tokens-status' }, h('p', { class: 'loading', text: 'Loading tokens…' }));
  setView('API Tokens', 'tokens-view',
    h('div', { class: 'view-head' }, h('h1', { text: 'API Tokens' }),
      h('button', { type: 'button', class: 'primary', 'data-testid': 'add-token', onclick: () => openTokenDialog(null) }, '+ Add Token')),
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
function renderTokenTable() {
  const body = $('#tokens-body');
  if (!body) return;
  if (!state.tokens.length) {
    body.replaceChildren(h('div', { class: 'empty', 'data-testid': 'tokens-empty' },
      h('p', { class: 'empty-title', text: 'You have no API tokens yet.' }),
      h('p', { text: 'Use “Add Token” to create one for a script or an integration.' })));
    return;
  }
  body.replaceChildren(h('table', { class: 'data tokens', 'data-testid': 'tokens-table' },
    h('caption', { class: 'sr-only', text: 'Your API tokens' }),
    h('thead', {}, h('tr', {}, ['Description', 'Created', 'Expires', 'Last used', 'Code'].map((t) => h('th', { scope: 'col', text: t })),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    h('tbody', {}, state.tokens.map(tokenRow))));
}
function isExpired(t) { return t.expired === true || (t.expired == null && Date.parse(t.expires_at) <= Date.now()); }
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
function tokenRow(t) {
  const code = state.revealed.get(t.id);
  const expired = isExpired(t);
  const desc = t.description;
  const expiredHelp = 'Expired tokens cannot be edited: delete it and create a new one.';
  return h('tr', { 'data-testid': 'token-row', 'data-token-id': t.id, class: expired ? 'expired' : null },
    h('td', { 'data-label': 'Description', 'data-testid': 'token-description', class: 'desc', text: desc }),
    h('td', { 'data-label': 'Created', 'data-testid': 'token-created' }, timeEl(t.created_at)),
    h('td', { 'data-label': 'Expires', 'data-testid': 'token-expires' }, timeEl(t.expires_at), expiryBadge(t)),
    h('td', { 'data-label': 'Last used', 'data-testid': 'token-last-used' }, lastUsed(t)),
    h('td', { 'data-label': 'Code', class: 'code-cell' }, h('div', { class: 'code-wrap' },
      h('code', { class: code ? 'code revealed' : 'code masked', 'data-testid': 'token-code', 'aria-hidden': code ? null : 'true' },
        code || '••••••••••••••••'),
      code ? null : h('span', { class: 'sr-only', text: 'Code hidden' }),
      code ? h('button', { type: 'button', class: 'icon-button', 'data-testid': 'copy-code', 'aria-label': `Copy code of ${desc}`, title: 'Copy to clipboard',
        onclick: (ev) => copyCode(code, ev.currentTarget) }, icon('copy'), h('span', { class: 'copy-label', text: 'Copy' })) : null)),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'show-toggle',
        'aria-label': `${code ? 'Hide' : 'Show'} code of ${desc}`, onclick: (ev) => toggleReveal(t, ev.currentTarget) }, code ? 'Hide' : 'Show'),
      h('button', { type: 'button', class: 'icon-button', 'data-testid': 'edit-token', 'aria-label': `Edit ${desc}`,
        'aria-disabled': expired ? 'true' : null, title: expired ? expiredHelp : 'Edit description or timeout',
        onclick: () => (expired ? showBanner(`“${desc}” has expired. ${expiredHelp}`, 'info') : openTokenDialog(t)) }, icon('pencil')),
      h('button', { type: 'button', class: 'icon-button danger', 'data-testid': 'delete-token', 'aria-label': `Delete ${desc}`, title: 'Delete',
        onclick: () => confirmDeleteToken(t) }, icon('trash'))));
}
// Re-render one row and put the focus back on the same control.
function refreshRow(id, focusTestid) {
  const old = document.querySelector(`tr[data-token-id="${CSS.escape(id)}"]`);
  const t = state.tokens.find((x) => x.id === id);
  if (!old || !t) return;
  const row = tokenRow(t);
  old.replaceWith(row);
  if (focusTestid) row.querySelector(`[data-testid="${focusTestid}"]`)?.focus();
}
function dropToken(id) {
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
    if (e.status === 404) { dropToken(t.id); showBanner('That token no longer exists.', 'info'); return; }
    showBanner(`Could not show the code. ${describeError(e)}`);
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
async function copyCode(code, button) {
  const label = button.querySelector('.copy-label');
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
  label.textContent = ok ? 'Copied' : 'Press Ctrl+C';
  announce(ok ? 'Code copied to the clipboard.' : 'The code is selected; press Ctrl+C to copy it.');
  setTimeout(() => { label.textContent = 'Copy'; }, 2500);
}

// ---------- add / edit dialog ----------
// Add (t == null) or edit token t.
let tokenEditing = null;
async function openTokenDialog(t) {
  const dialog = $('#token-dialog');
  if (dialog.open) return;
  let current = null;
  if (t) {
    try { current = (await api('GET', `/api/v1/tokens/${encodeURIComponent(t.id)}`)).data; } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) { dropToken(t.id); showBanner('That token no longer exists.', 'info'); return; }
      showBanner(`Could not open the token. ${describeError(e)}`); return;
    }
    if (isExpired(current)) { upsertToken(current); showBanner(`“${current.description}” has expired. Expired tokens cannot be edited: delete it and create a new one.`, 'info'); return; }
  }
  tokenEditing = current;
  clearErrors(dialog);
  dialog.dataset.mode = current ? 'edit' : 'add';
  $('#token-dialog-title').textContent = current ? 'Edit token' : 'Add token';
  $('#token-submit').textContent = current ? 'Save' : 'Create';
  $('#token-timeout-hint-edit').hidden = !current;
  $('#token-code-note').hidden = !current;
  $('#token-description').value = current ? current.description : '';
  $('#token-timeout').value = current ? String(current.timeout?.value ?? '') : '30';
  $('#token-unit').value = 'days';
  previewExpiry();
  openDialog(dialog, $('#token-description'));
}
// "Expires …" under the timeout: from created_at when editing, from now when adding.
function previewExpiry() {
  const days = Number($('#token-timeout').value);
  const out = $('#token-expiry-preview');
  out.replaceChildren();
  if (!Number.isInteger(days) || days < 1 || days > 365) return;
  const from = tokenEditing ? Date.parse(tokenEditing.created_at) : Date.now();
  const at = new Date(from + days * 86_400_000);
  out.append(at.getTime() <= Date.now() ? 'That moment has already passed: choose more days. ' : 'Expires ', timeEl(at.toISOString()));
}
function upsertToken(t) {
  const i = state.tokens.findIndex((x) => x.id === t.id);
  if (i >= 0) { state.tokens[i] = t; refreshRow(t.id); } else { state.tokens.unshift(t); renderTokenTable(); }
}
async function submitToken() {
  const dialog = $('#token-dialog');
  const descIn = $('#token-description');
  const timeIn = $('#token-timeout');
  const descErr = $('#token-description-error');
  const timeErr = $('#token-timeout-error');
  const formErr = $('#token-form-error');
  clearErrors(dialog);
  const description = descIn.value.trim();
  const days = Number(timeIn.value);
  let bad = null;
  if (!description) { setFieldError(descIn, descErr, 'Enter a description, for example what the token is for.'); bad = bad || descIn; }
  else if (description.length > 200) { setFieldError(descIn, descErr, `At most 200 characters (now ${description.length}).`); bad = bad || descIn; }
  else if (/\p{Cc}/u.test(description)) { setFieldError(descIn, descErr, 'Control characters (such as tabs) are not allowed.'); bad = bad || descIn; }
  if (timeIn.value.trim() === '' || !Number.isInteger(days) || days < 1 || days > 365) {
    setFieldError(timeIn, timeErr, 'Enter a whole number of days from 1 to 365.'); bad = bad || timeIn;
  }
  if (bad) { bad.focus(); return; }
  const editing = tokenEditing;
  const body = {};
  if (!editing || description !== editing.description) body.description = description;
  if (!editing || days !== editing.timeout?.value || editing.timeout?.unit !== 'days') body.timeout = { value: days, unit: 'days' };
  if (editing && !Object.keys(body).length) { dialog.close(); return; }
  try {
    const { data } = editing
      ? await api('PATCH', `/api/v1/tokens/${encodeURIComponent(editing.id)}`,
        { body, headers: Number.isInteger(editing.version) ? { 'If-Match': `"${editing.version}"` } : {} })
      : await api('POST', '/api/v1/tokens', { body });
    upsertToken(data);
    const row = document.querySelector(`tr[data-token-id="${CSS.escape(data.id)}"]`);
    dialog.returnFocus = row?.querySelector(editing ? '[data-testid="edit-token"]' : '[data-testid="show-toggle"]');
    dialog.close();
    announce(editing ? 'Token saved.' : 'Token created.');
  } catch (e) {
    if (e.status === 401) return;
    if (e.status === 400) {
      const f = fieldOf(e, ['description', 'timeout']);
      if (f === 'description') { setFieldError(descIn, descErr, fieldMessage(e)); descIn.focus(); } else if (f === 'timeout') { setFieldError(timeIn, timeErr, fieldMessage(e)); timeIn.focus(); } else formErr.textContent = e.message;
    } else if (e.status === 409 && e.code === 'token_expired') {
      formErr.textContent = 'This token has expired, so it can no longer be changed. Delete it and create a new one.';
      api('GET', `/api/v1/tokens/${encodeURIComponent(editing.id)}`).then((r) => upsertToken(r.data), () => {});
    } else if (e.status === 412 || (e.status === 409 && e.code === 'version_conflict')) {
      try {
        tokenEditing = (await api('GET', `/api/v1/tokens/${encodeURIComponent(editing.id)}`)).data;
        upsertToken(tokenEditing);
      } catch { /* keep the old version; the next save reports again */ }
      formErr.textContent = 'This token was changed meanwhile (for example, its code was shown elsewhere). Check the values and save again.';
    } else if (e.status === 404) {
      dialog.close(); dropToken(editing ? editing.id : ''); showBanner('That token no longer exists.', 'info');
    } else formErr.textContent = describeError(e);
  }
}

function confirmDeleteToken(t) {
  confirmDialog('Delete token?', `Delete “${t.description}”? Scripts that use it stop working at once. This cannot be undone.`, async () => {
    try { await api('DELETE', `/api/v1/tokens/${encodeURIComponent(t.id)}`); } catch (e) { if (e.status !== 404) throw e; }
    $('#confirm-dialog').returnFocus = $('[data-testid="add-token"]');
    dropToken(t.id);
    announce('Token deleted.');
  });
}

export function setupTokenDialog() {
  setupDialog($('#token-dialog'), submitToken);
  setupReauthDialog();
  $('#token-timeout').addEventListener('input', previewExpiry);
}
