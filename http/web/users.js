// The Users screen (admins): the list of users, adding and editing them (groups, password), deleting,
// and revoking all tokens of a user (with a reason, for the audit log).
import { $, h, icon } from './dom.js';
import { api, describeError, fieldMessage, fieldOf } from './api.js';
import { clearErrors, confirmDialog, openDialog, setFieldError, setupDialog } from './dialogs.js';
import { rerender, setView } from './nav.js';
import { showBanner, toast } from './notify.js';
import { MIN_PASSWORD, PASSWORD_RULES } from './password.js';
import { loadMe } from './session.js';
import { renderGen, state } from './state.js';

let usersCache = [];
let userEditing = null;
let focusAfterUsers = null;   // selector focused once the user list is shown again
export async function renderUsers(gen) {
  const status = h('div', { class: 'status', 'data-testid': 'users-status' }, h('p', { class: 'loading', text: 'Loading users…' }));
  setView('Users', 'users-view',
    h('div', { class: 'view-head' }, h('h1', { text: 'Users' }),
      h('button', { type: 'button', class: 'primary', 'data-testid': 'add-user', onclick: () => openUserDialog(null) }, '+ Add user')),
    h('p', { class: 'lead', text: 'Group membership decides what each person may do. Every change is recorded in the audit log.' }),
    status, h('div', { id: 'users-body' }));
  try {
    const { data } = await api('GET', '/api/v1/users');
    if (gen !== renderGen) return;
    usersCache = (data.users || []).slice().sort((x, y) => x.username.localeCompare(y.username));
    status.replaceChildren();
    renderUserTable();
  } catch (e) {
    if (gen !== renderGen || e.status === 401) return;
    status.replaceChildren(h('p', { class: 'form-error', role: 'alert', text: `Could not load the users. ${describeError(e)}` }),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'retry', onclick: () => rerender() }, 'Retry'));
  }
}
function renderUserTable() {
  const body = $('#users-body');
  if (!body) return;
  body.replaceChildren(h('table', { class: 'data users', 'data-testid': 'users-table' },
    h('caption', { class: 'sr-only', text: 'Users' }),
    h('thead', {}, h('tr', {}, ['Username', 'Groups', 'Status'].map((t) => h('th', { scope: 'col', text: t })),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    h('tbody', {}, usersCache.map(userRow))));
  if (focusAfterUsers) { $(focusAfterUsers)?.focus(); focusAfterUsers = null; }
}
// live_tokens and disabled come from newer servers: without them the count and the state are not shown.
function tokenCount(u) {
  if (!Number.isInteger(u.live_tokens)) return null;
  const count = `${u.live_tokens} live token${u.live_tokens === 1 ? '' : 's'}`;
  // Out of api-tokens or disabled: the tokens exist but do not validate until she returns.
  return u.live_tokens > 0 && u.tokens_active === false ? `${count} (inactive)` : count;
}
function userRow(u) {
  const you = u.username === state.me.user;
  return h('tr', { 'data-testid': 'user-row', 'data-username': u.username, class: u.disabled ? 'disabled' : null },
    h('td', { 'data-label': 'Username', 'data-testid': 'user-name' }, u.username, you ? h('span', { class: 'muted', text: ' (you)' }) : null),
    h('td', { 'data-label': 'Groups', 'data-testid': 'user-groups' },
      (u.groups || []).length ? u.groups.map((g) => h('span', { class: 'badge', 'data-group': g, text: g })) : h('span', { class: 'muted', text: 'no groups' })),
    h('td', { 'data-label': 'Status', 'data-testid': 'user-status' },
      u.disabled ? h('span', { class: 'badge badge-disabled', 'data-testid': 'user-disabled', text: 'Disabled' }) : h('span', { text: 'Active' }),
      tokenCount(u) ? h('div', { class: 'muted small-text', 'data-testid': 'user-live-tokens', text: tokenCount(u) }) : null),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'revoke-user-tokens', 'aria-label': `Revoke tokens of ${u.username}`,
        title: 'Revoke (delete) all API tokens of this user', onclick: (ev) => openRevokeDialog(u, ev.currentTarget) }, 'Revoke tokens'),
      u.disabled == null ? null : h('button', { type: 'button', class: 'secondary small', 'data-testid': u.disabled ? 'enable-user' : 'disable-user',
        'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.username}`, onclick: (ev) => confirmDisable(u, ev.currentTarget) }, u.disabled ? 'Enable' : 'Disable'),
      h('button', { type: 'button', class: 'icon-button', 'data-testid': 'edit-user', 'aria-label': `Edit ${u.username}`, title: 'Edit groups or password',
        onclick: () => openUserDialog(u) }, icon('pencil')),
      h('button', { type: 'button', class: 'icon-button danger', 'data-testid': 'delete-user', 'aria-label': `Delete ${u.username}`, title: 'Delete',
        onclick: () => confirmDeleteUser(u) }, icon('trash'))));
}
// Disabling: no sign-in, sessions end, tokens inactive until enabled again (PATCH {"disabled": bool}).
function confirmDisable(u, button) {
  const on = !u.disabled;
  const text = on
    ? `Disable “${u.username}”? They cannot sign in, their sessions end now, and their API tokens stop working until the account is enabled again. Nothing is deleted.`
    : `Enable “${u.username}”? They can sign in again, and their API tokens that have not expired work again.`;
  confirmDialog(on ? 'Disable user?' : 'Enable user?', text, async () => {
    await api('PATCH', `/api/v1/users/${encodeURIComponent(u.username)}`, { body: { disabled: on } });
    $('#confirm-dialog').returnFocus = null;
    focusAfterUsers = `tr[data-username="${CSS.escape(u.username)}"] [data-testid="${on ? 'enable-user' : 'disable-user'}"]`;
    await afterUserChange(u.username);
    toast(`${on ? 'Disabled' : 'Enabled'} “${u.username}”.`, $(`tr[data-username="${CSS.escape(u.username)}"] [data-testid="${on ? 'enable-user' : 'disable-user'}"]`) || button);
  });
}
let confirmedNoGroup = false;
function openUserDialog(u) {
  const dialog = $('#user-dialog');
  userEditing = u;
  clearErrors(dialog);
  $('#user-dialog-title').textContent = u ? `Edit user ${u.username}` : 'Add user';
  $('#user-submit').textContent = u ? 'Save' : 'Add user';
  $('#user-username-field').hidden = !!u;
  $('#user-username').value = u ? u.username : '';
  $('#user-password').value = '';
  $('#user-must-change').checked = false;
  confirmedNoGroup = false;
  $('#user-password-label').textContent = u ? 'New password (leave empty to keep the current one)' : 'Password';
  for (const cb of dialog.querySelectorAll('input[name="group"]')) cb.checked = !!u && (u.groups || []).includes(cb.value);
  openDialog(dialog, u ? $('#user-password') : $('#user-username'));
}
async function submitUser() {
  const dialog = $('#user-dialog');
  clearErrors(dialog);
  const nameIn = $('#user-username');
  const passIn = $('#user-password');
  const username = userEditing ? userEditing.username : nameIn.value.trim();
  const groups = [...dialog.querySelectorAll('input[name="group"]:checked')].map((cb) => cb.value);
  const mustChange = $('#user-must-change').checked;
  // Every field error at once; the first invalid field gets the focus.
  const bad = [];
  if (!userEditing && !username) { setFieldError(nameIn, $('#user-username-error'), 'Enter a username.'); bad.push(nameIn); }
  else if (!userEditing && !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(username)) {
    setFieldError(nameIn, $('#user-username-error'), '1 to 64 characters: a–z, 0–9, “.”, “_” or “-”, starting with a letter or digit.'); bad.push(nameIn);
  }
  if (!userEditing && !passIn.value) { setFieldError(passIn, $('#user-password-error'), `Enter a password. ${PASSWORD_RULES}`); bad.push(passIn); }
  else if (passIn.value && [...passIn.value].length < MIN_PASSWORD) {
    setFieldError(passIn, $('#user-password-error'), `At least ${MIN_PASSWORD} characters (now ${[...passIn.value].length}).`); bad.push(passIn);
  }
  if (mustChange && !passIn.value) { setFieldError(passIn, $('#user-password-error'), 'Enter the password they must change.'); bad.push(passIn); }
  if (!userEditing && !groups.length && !confirmedNoGroup && !bad.length) {
    // Not an error, but rarely meant: say so once; a second "Add user" adds anyway.
    $('#user-groups-error').textContent = 'No group chosen: this user could sign in but do nothing. Choose a group, or press “Add user” again to add them anyway.';
    confirmedNoGroup = true;
    dialog.querySelector('input[name="group"]').focus();
    return;
  }
  if (bad.length) { bad[0].focus(); return; }
  const path = `/api/v1/users/${encodeURIComponent(username)}`;
  const pwBody = () => (mustChange ? { password: passIn.value, must_change: true } : { password: passIn.value });
  try {
    if (!userEditing) {
      await api('POST', '/api/v1/users', { body: { username, password: passIn.value, groups } });
      if (mustChange) await api('PATCH', path, { body: pwBody() });
    } else {
      const before = [...(userEditing.groups || [])].sort().join(',');
      if ([...groups].sort().join(',') !== before) await api('PATCH', path, { body: { groups } });
      if (passIn.value) await api('PATCH', path, { body: pwBody() });
    }
    focusAfterUsers = `tr[data-username="${CSS.escape(username)}"] [data-testid="edit-user"]`;
    dialog.returnFocus = null;
    dialog.close();
    const wasEditing = !!userEditing;
    await afterUserChange(username);
    toast(wasEditing ? `Saved “${username}”.` : `Added “${username}”.`, $(`tr[data-username="${CSS.escape(username)}"] [data-testid="edit-user"]`));
  } catch (e) {
    if (e.status === 401) return;
    const f = e.status === 400 || e.status === 409 ? fieldOf(e, ['username', 'password', 'groups', 'group']) : null;
    if (f === 'username' && !userEditing) setFieldError(nameIn, $('#user-username-error'), fieldMessage(e));
    else if (f === 'password') setFieldError(passIn, $('#user-password-error'), fieldMessage(e));
    else if (f === 'groups' || f === 'group') $('#user-groups-error').textContent = fieldMessage(e);
    else $('#user-form-error').textContent = describeError(e);
  }
}
// Reload the list; if the change was about me, reload my groups too (the menu and the route may change).
async function afterUserChange(username) {
  if (username === state.me?.user) { await loadMe().catch((e) => showBanner(describeError(e))); }
  await rerender();
}
function confirmDeleteUser(u) {
  const self = u.username === state.me.user;
  const n = u.live_tokens;
  const tokens = Number.isInteger(n)
    ? (n ? ` Their ${n} live API token${n === 1 ? '' : 's'} ${n === 1 ? 'is' : 'are'} deleted with them: scripts that use ${n === 1 ? 'it' : 'them'} stop working at once.` : ' They have no live API tokens.')
    : ' Their API tokens are deleted with them: scripts that use them stop working at once.';
  confirmDialog('Delete user?', `Delete the user “${u.username}”?${self ? ' This is your own account: you will lose access.' : ''}${tokens} This cannot be undone.`, async () => {
    await api('DELETE', `/api/v1/users/${encodeURIComponent(u.username)}`);
    $('#confirm-dialog').returnFocus = null;
    focusAfterUsers = '[data-testid="add-user"]';
    await afterUserChange(u.username);
    if (state.me) toast(`Deleted “${u.username}”.`, $('[data-testid="add-user"]'));
  });
}

// ---------- revoking all tokens of a user ----------
let revoking = null;
let revokeButton = null;
function openRevokeDialog(u, button) {
  revokeButton = button;
  const dialog = $('#revoke-dialog');
  revoking = u;
  clearErrors(dialog);
  $('#revoke-title').textContent = `Revoke tokens of ${u.username}?`;
  $('#revoke-text').textContent = `Revoke every API token of “${u.username}”? Scripts that use them stop working at once. This cannot be undone.`;
  $('#revoke-reason').value = '';
  openDialog(dialog, $('#revoke-reason'));
}
async function submitRevoke() {
  const dialog = $('#revoke-dialog');
  const reasonIn = $('#revoke-reason');
  const reasonErr = $('#revoke-reason-error');
  clearErrors(dialog);
  const reason = reasonIn.value.trim();
  if (!reason) { setFieldError(reasonIn, reasonErr, 'Enter a reason, for example “left the company” or “code leaked”.'); reasonIn.focus(); return; }
  const username = revoking.username;
  try {
    const { data } = await api('POST', `/api/v1/users/${encodeURIComponent(username)}/revoke-tokens`, { body: { reason } });
    const n = Number(data?.revoked ?? 0);
    dialog.close();
    await rerender(); // the live-token counts change
    const again = $(`tr[data-username="${CSS.escape(username)}"] [data-testid="revoke-user-tokens"]`);
    again?.focus();
    toast(`Revoked ${n} token${n === 1 ? '' : 's'} of ${data?.username || username}.`, again || revokeButton);
  } catch (e) {
    if (e.status === 401) return;
    if (e.status === 400 && fieldOf(e, ['reason']) === 'reason') { setFieldError(reasonIn, reasonErr, fieldMessage(e)); reasonIn.focus(); }
    else if (e.status === 404) { dialog.close(); showBanner(`The user “${username}” no longer exists.`, 'info'); rerender(); }
    else $('#revoke-error').textContent = describeError(e);
  }
}

export function setupUserDialog() {
  setupDialog($('#user-dialog'), submitUser);
  setupDialog($('#revoke-dialog'), submitRevoke);
  $('#revoke-reason').addEventListener('input', (ev) => {   // the "reason required" error goes once there is one
    if (ev.target.value.trim()) { $('#revoke-reason-error').textContent = ''; ev.target.removeAttribute('aria-invalid'); }
  });
}
