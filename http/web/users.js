// The Users screen (admins): the list of users, adding and editing them (groups, password), deleting,
// and revoking all tokens of a user (with a reason, for the audit log).
import { $, h, icon } from './dom.js';
import { api, describeError, fieldMessage, fieldOf } from './api.js';
import { clearErrors, confirmDialog, openDialog, setFieldError, setupDialog } from './dialogs.js';
import { rerender, setView } from './nav.js';
import { announce, showBanner } from './notify.js';
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
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Username' }), h('th', { scope: 'col', text: 'Groups' }),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    h('tbody', {}, usersCache.map((u) => h('tr', { 'data-testid': 'user-row', 'data-username': u.username },
      h('td', { 'data-label': 'Username', 'data-testid': 'user-name' }, u.username,
        u.username === state.me.user ? h('span', { class: 'muted', text: ' (you)' }) : null),
      h('td', { 'data-label': 'Groups', 'data-testid': 'user-groups' },
        (u.groups || []).length ? u.groups.map((g) => h('span', { class: 'badge', 'data-group': g, text: g })) : h('span', { class: 'muted', text: 'no groups' })),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary small', 'data-testid': 'revoke-user-tokens', 'aria-label': `Revoke all tokens of ${u.username}`,
          title: 'Revoke (delete) all API tokens of this user', onclick: () => openRevokeDialog(u) }, 'Revoke tokens'),
        h('button', { type: 'button', class: 'icon-button', 'data-testid': 'edit-user', 'aria-label': `Edit ${u.username}`, title: 'Edit groups or password',
          onclick: () => openUserDialog(u) }, icon('pencil')),
        h('button', { type: 'button', class: 'icon-button danger', 'data-testid': 'delete-user', 'aria-label': `Delete ${u.username}`, title: 'Delete',
          onclick: () => confirmDeleteUser(u) }, icon('trash'))))))));
  if (focusAfterUsers) { $(focusAfterUsers)?.focus(); focusAfterUsers = null; }
}
function openUserDialog(u) {
  const dialog = $('#user-dialog');
  userEditing = u;
  clearErrors(dialog);
  $('#user-dialog-title').textContent = u ? `Edit user ${u.username}` : 'Add user';
  $('#user-submit').textContent = u ? 'Save' : 'Add user';
  $('#user-username-field').hidden = !!u;
  $('#user-username').value = u ? u.username : '';
  $('#user-password').value = '';
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
  if (!userEditing && !username) { setFieldError(nameIn, $('#user-username-error'), 'Enter a username.'); nameIn.focus(); return; }
  if (!userEditing && !passIn.value) { setFieldError(passIn, $('#user-password-error'), 'Enter a password.'); passIn.focus(); return; }
  const path = `/api/v1/users/${encodeURIComponent(username)}`;
  try {
    if (!userEditing) await api('POST', '/api/v1/users', { body: { username, password: passIn.value, groups } });
    else {
      const before = [...(userEditing.groups || [])].sort().join(',');
      if ([...groups].sort().join(',') !== before) await api('PATCH', path, { body: { groups } });
      if (passIn.value) await api('PATCH', path, { body: { password: passIn.value } });
    }
    focusAfterUsers = `tr[data-username="${CSS.escape(username)}"] [data-testid="edit-user"]`;
    dialog.returnFocus = null;
    dialog.close();
    announce(userEditing ? 'User saved.' : 'User added.');
    await afterUserChange(username);
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
  rerender();
}
function confirmDeleteUser(u) {
  const self = u.username === state.me.user;
  confirmDialog('Delete user?', `Delete the user “${u.username}”?${self ? ' This is your own account: you will lose access.' : ''} Their tokens are not deleted by this.`, async () => {
    await api('DELETE', `/api/v1/users/${encodeURIComponent(u.username)}`);
    $('#confirm-dialog').returnFocus = null;
    focusAfterUsers = '[data-testid="add-user"]';
    announce('User deleted.');
    afterUserChange(u.username);
  });
}

// ---------- revoking all tokens of a user ----------
let revoking = null;
function openRevokeDialog(u) {
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
    showBanner(`Revoked ${n} token${n === 1 ? '' : 's'} of ${data?.username || username}.`, 'success'); // the banner is role=alert
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
