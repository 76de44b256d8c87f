// tokenledger web UI: hash-routed (#/login, #/tokens, #/audit, #/users), no framework, no build step.
// Served under a strict CSP (default-src 'self'): no inline scripts or styles, no eval.
// Every element that tests touch carries a data-testid; user data is only ever set as text.

const $ = (sel, root = document) => root.querySelector(sel);
const EVENT_TYPES = ['TokenCreated', 'TokenDescriptionChanged', 'TokenTimeoutChanged', 'TokenRevealed',
  'TokenDeleted', 'UserCreated', 'UserGroupsChanged', 'UserPasswordChanged', 'UserDeleted'];
const AUDIT_PAGE = 50;       // rows per page shown
const AUDIT_FETCH = 1000;    // events per request (the API's maximum)
const AUDIT_CAP = 5000;      // events kept in memory for one query
const AUDIT_MAX_REQUESTS = 500;

const state = {
  me: null,              // GET /api/v1/me
  returnTo: null,        // route to open after logging in
  loginNotice: '',
  tokens: [],
  revealed: new Map(),   // token id -> code, only while the tokens screen is shown
  audit: null,           // filters, order, loaded events and page of the audit screen
};
function resetUserState() {
  state.tokens = [];
  state.revealed.clear();
  state.audit = { filters: {}, order: 'desc', events: [], page: 0, truncated: false, total: 0 };
}
resetUserState();
let renderGen = 0;

// ---------- DOM helpers ----------
function h(tag, props = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
  return el;
}
const ICONS = {
  pencil: 'M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25zM20.71 7.04a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z',
  trash: 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z',
  copy: 'M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z',
};
function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}
const dtShort = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dtLong = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
// A <time> in the local time zone; the UTC value is in the title (shown on hover).
function timeEl(iso, precise = false) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return h('span', { text: iso || '—' });
  const utc = d.toISOString().replace('T', ' ').replace('Z', ' UTC');
  return h('time', { datetime: d.toISOString(), title: utc }, (precise ? dtLong : dtShort).format(d));
}
function announce(msg) { const live = $('#live'); live.textContent = ''; setTimeout(() => { live.textContent = msg; }, 30); }

let bannerTimer = 0;
function showBanner(msg, kind = 'error') {
  const b = $('#banner');
  $('#banner-text').textContent = msg;
  b.className = `banner ${kind}`;
  b.dataset.kind = kind;
  b.hidden = false;
  clearTimeout(bannerTimer);
  if (kind !== 'error') bannerTimer = setTimeout(hideBanner, 6000);
}
function hideBanner() { $('#banner').hidden = true; }

// ---------- API ----------
class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    Object.assign(this, { status, code, field, retryAfter });
  }
}
function defaultMessage(status) {
  if (status === 401) return 'Your session has ended. Please log in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found: it may have been deleted.';
  if (status === 429) return 'Too many attempts. Wait a moment and try again.';
  if (status === 503) return 'The service is unavailable right now.';
  return `The server answered with an error (HTTP ${status}).`;
}
// Text for showing an error to a person.
function describeError(e) {
  if (!(e instanceof ApiError)) return `Something went wrong: ${e && e.message ? e.message : e}`;
  const msg = /[.!?]$/.test(e.message) ? e.message : `${e.message}.`;
  if (e.status === 503) return `Service unavailable: ${msg} Nothing was changed; please try again later.`;
  if (e.status >= 500) return `Server error (HTTP ${e.status}): ${msg} Please try again.`;
  return msg;
}
async function api(method, path, { body, headers = {}, auth = true } = {}) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }
  const text = await res.text().catch(() => '');
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (res.ok) return { status: res.status, data, headers: res.headers };
  const err = (data && data.error) || {};
  const e = new ApiError(res.status, err.code || `http_${res.status}`, err.message || defaultMessage(res.status),
    err.field, res.headers.get('Retry-After'));
  if (res.status === 401 && auth) sessionEnded();
  throw e;
}
// Which form field a 400 answer is about: an optional `field` member, else the message's "name: …" prefix,
// else a field name in the message.
function fieldOf(e, names) {
  const f = String(e.field || '').split(/[.[/]/)[0] || (String(e.message).match(/^(\w+):/) || [])[1];
  if (names.includes(f)) return f;
  const msg = String(e.message || '').toLowerCase();
  return names.find((n) => msg.includes(n)) || (names.includes('timeout') && /\bdays?\b/.test(msg) ? 'timeout' : null);
}
// "description: must not be empty." shown next to Description reads better as "Must not be empty."
function fieldMessage(e) {
  const m = String(e.message).replace(/^\w+:\s*/, '');
  return m ? m[0].toUpperCase() + m.slice(1) : e.message;
}
function sessionEnded() {
  if (!state.me) return;
  state.me = null;
  resetUserState();
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  const r = currentRoute();
  if (r !== 'login') state.returnTo = r;
  state.loginNotice = 'Your session has ended. Please log in again.';
  renderHeader();
  go('login');
}

// ---------- routing ----------
function currentRoute() { const m = location.hash.match(/^#\/([\w-]*)/); return m ? m[1] : ''; }
function go(route) { if (currentRoute() === route) router(); else location.hash = `#/${route}`; }
function defaultRoute(me) {
  if (me.can_manage_tokens) return 'tokens';
  if (me.can_audit) return 'audit';
  if (me.can_admin) return 'users';
  return 'home';
}
async function loadMe() {
  try {
    state.me = (await api('GET', '/api/v1/me', { auth: false })).data;
  } catch (e) {
    state.me = null;
    if (e.status !== 401) throw e;
  }
  renderHeader();
}
function setView(title, testid, ...kids) {
  const main = $('#main');
  main.replaceChildren(h('section', { class: `view view-${testid}`, 'data-testid': testid }, ...kids));
  document.title = `${title} · tokenledger`;
}
async function router() {
  const gen = ++renderGen;
  closeMenu();
  const route = currentRoute();
  if (route !== 'tokens') state.revealed.clear();
  if (!state.me && route !== 'login') {
    state.returnTo = route || null;
    location.replace('#/login');
    return;
  }
  if (route === 'login') {
    if (state.me) { location.replace(`#/${state.returnTo || defaultRoute(state.me)}`); state.returnTo = null; return; }
    renderLogin();
  } else if (route === '') {
    location.replace(`#/${defaultRoute(state.me)}`);
    return;
  } else if (route === 'tokens') {
    if (state.me.can_manage_tokens) await renderTokens(gen);
    else renderNoGroup('API Tokens', 'api-tokens', 'create and manage API tokens');
  } else if (route === 'audit') {
    if (state.me.can_audit) await renderAudit(gen);
    else renderNoGroup('Auditors', 'auditors', 'read and verify the audit log');
  } else if (route === 'users') {
    if (state.me.can_admin) await renderUsers(gen);
    else renderNoGroup('Admins', 'admins', 'manage users and their groups');
  } else if (route === 'home') {
    renderHome();
  } else {
    setView('Not found', 'not-found', h('h1', { text: 'Page not found' }),
      h('p', {}, 'There is no page here. ', h('a', { href: '#/' }, 'Go to the start page.')));
  }
  renderHeader();
}

// ---------- header and avatar menu ----------
function renderHeader() {
  const me = state.me;
  $('#avatar').hidden = !me;
  if (!me) { closeMenu(); return; }
  $('#avatar-name').textContent = me.user;
  $('#avatar-initial').textContent = (me.user || '?').slice(0, 1).toUpperCase();
  const route = currentRoute();
  const link = (r, label, testid) => h('li', {}, h('a', { href: `#/${r}`, 'data-testid': testid, 'aria-current': route === r ? 'page' : null }, label));
  $('#avatar-menu').replaceChildren(
    h('li', { class: 'menu-user' }, 'Signed in as ', h('strong', { text: me.user })),
    me.can_manage_tokens ? link('tokens', 'API Tokens', 'nav-tokens') : null,
    me.can_audit ? link('audit', 'Audit log', 'nav-audit') : null,
    me.can_admin ? link('users', 'Users', 'nav-users') : null,
    h('li', { class: 'menu-sep' }, h('button', { type: 'button', class: 'menu-item', 'data-testid': 'logout', onclick: logout }, 'Log out')),
  );
}
function openMenu() { $('#avatar-menu').hidden = false; $('#avatar-button').setAttribute('aria-expanded', 'true'); }
function closeMenu() { $('#avatar-menu').hidden = true; $('#avatar-button').setAttribute('aria-expanded', 'false'); }
async function logout() {
  closeMenu();
  try { await api('DELETE', '/api/v1/session', { auth: false }); } catch (e) {
    if (e.status !== 401) { showBanner(`Could not log out: ${describeError(e)}`); return; }
  }
  state.me = null;
  state.returnTo = null;
  resetUserState();
  state.loginNotice = 'You have logged out.';
  renderHeader();
  go('login');
}

// ---------- login, home, no-group ----------
function renderLogin() {
  const err = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'login-error' });
  const user = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, 'data-testid': 'login-username' });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Log in');
  const form = h('form', { class: 'card narrow', novalidate: true, 'data-testid': 'login-form' },
    h('h1', { text: 'Log in' }),
    state.loginNotice ? h('p', { class: 'notice', 'data-testid': 'login-notice', text: state.loginNotice }) : null,
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, 'Username'), user),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), pass),
    err, h('div', { class: 'form-buttons' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    if (!user.value.trim() || !pass.value) { err.textContent = 'Enter your username and password.'; (user.value.trim() ? pass : user).focus(); return; }
    submit.disabled = true;
    try {
      await api('POST', '/api/v1/session', { body: { username: user.value.trim(), password: pass.value }, auth: false });
      await loadMe();
      if (!state.me) throw new ApiError(0, 'no_session', 'Logged in, but the browser did not keep the session cookie (is it marked Secure on plain http?).');
      state.loginNotice = '';
      go(state.returnTo || defaultRoute(state.me));
      state.returnTo = null;
    } catch (e) {
      if (e.status === 401) err.textContent = 'Wrong username or password.';
      else if (e.status === 429) err.textContent = `Too many failed attempts. Wait ${e.retryAfter ? `${e.retryAfter} seconds` : 'a minute'} and try again.`;
      else err.textContent = describeError(e);
      pass.select();
      pass.focus();
    } finally { submit.disabled = false; }
  });
  setView('Log in', 'login-view', form);
  user.focus();
}
function renderHome() {
  setView('Welcome', 'home-view', h('div', { class: 'card' },
    h('h1', { text: `Welcome, ${state.me.user}` }),
    h('p', { text: 'Your account is not in any group yet, so there is nothing to manage here.' }),
    h('p', {}, 'Ask an administrator to add you to ', h('code', { text: 'api-tokens' }), ' (to create API tokens) or ',
      h('code', { text: 'auditors' }), ' (to read the audit log).')));
}
function renderNoGroup(label, group, what) {
  setView(`${label} group needed`, 'no-group', h('div', { class: 'card notice-card', 'data-group': group },
    h('h1', { text: `You need to be in the ${label} group` }),
    h('p', {}, 'Your account (', h('strong', { text: state.me.user }), ') is not a member of the ', h('code', { text: group }),
      ` group, so you cannot ${what}. Ask an administrator to add you to it.`),
    h('p', { class: 'form-buttons' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'recheck', onclick: async () => {
        try { await loadMe(); } catch (e) { showBanner(describeError(e)); }
        if (state.me) router();
      } }, 'Check again'),
      h('a', { href: '#/', class: 'button-link' }, 'Go to the start page'))));
}

// ---------- API tokens ----------
async function renderTokens(gen) {
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
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'retry', onclick: () => router() }, 'Retry'));
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
    h('thead', {}, h('tr', {}, ['Description', 'Created', 'Expires', 'Code'].map((t) => h('th', { scope: 'col', text: t })),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Actions' })))),
    h('tbody', {}, state.tokens.map(tokenRow))));
}
function isExpired(t) { return t.expired === true || (t.expired == null && Date.parse(t.expires_at) <= Date.now()); }
function tokenRow(t) {
  const code = state.revealed.get(t.id);
  const expired = isExpired(t);
  const desc = t.description;
  const expiredHelp = 'Expired tokens cannot be edited: delete it and create a new one.';
  return h('tr', { 'data-testid': 'token-row', 'data-token-id': t.id, class: expired ? 'expired' : null },
    h('td', { 'data-label': 'Description', 'data-testid': 'token-description', class: 'desc', text: desc }),
    h('td', { 'data-label': 'Created', 'data-testid': 'token-created' }, timeEl(t.created_at)),
    h('td', { 'data-label': 'Expires', 'data-testid': 'token-expires' }, timeEl(t.expires_at),
      expired ? h('span', { class: 'badge badge-expired', 'data-testid': 'expired-badge', text: 'Expired' }) : null),
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
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    const { data } = await api('POST', `/api/v1/tokens/${encodeURIComponent(t.id)}/reveal`);
    state.revealed.set(t.id, data.token);
    refreshRow(t.id, 'show-toggle');
    announce('Code shown. Showing it has been recorded in the audit log.');
  } catch (e) {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (e.status === 401) return;
    if (e.status === 404) { dropToken(t.id); showBanner('That token no longer exists.', 'info'); return; }
    showBanner(`Could not show the code. ${describeError(e)}`);
  }
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

// ---------- dialogs ----------
function setupDialog(dialog, onSubmit) {
  const form = dialog.querySelector('form');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    const submit = form.querySelector('[type="submit"]');
    form.dataset.busy = '1';
    submit.disabled = true;
    try { await onSubmit(); } finally { delete form.dataset.busy; submit.disabled = false; }
  });
  dialog.querySelector('[data-action="cancel"]').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => { dialog.returnFocus?.isConnected && dialog.returnFocus.focus(); });
}
function clearErrors(dialog) {
  for (const p of dialog.querySelectorAll('.field-error, .form-error')) p.textContent = '';
  for (const i of dialog.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}
function setFieldError(input, errEl, msg) { errEl.textContent = msg; input.setAttribute('aria-invalid', 'true'); }
function openDialog(dialog, focusEl) {
  dialog.returnFocus = document.activeElement;
  dialog.showModal();
  (focusEl || dialog.querySelector('[autofocus]'))?.focus();
}

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

let confirmAction = null;
function confirmDialog(title, text, action) {
  const dialog = $('#confirm-dialog');
  clearErrors(dialog);
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  confirmAction = action;
  openDialog(dialog);
}
async function submitConfirm() {
  const dialog = $('#confirm-dialog');
  try {
    await confirmAction();
    dialog.close();
  } catch (e) {
    if (e.status === 401) return;
    $('#confirm-error').textContent = describeError(e);
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

// ---------- audit log ----------
function auditParams(filters) {
  const q = new URLSearchParams();
  for (const k of ['token_id', 'actor', 'type', 'since', 'until']) if (filters[k]) q.set(k, filters[k]);
  return q;
}
function exportHref(format) { const q = auditParams(state.audit.filters); q.set('format', format); return `/api/v1/audit/export?${q}`; }
// Reads every matching event (ascending, via next_after_seq). Keeps the first AUDIT_CAP for oldest-first,
// the last AUDIT_CAP for newest-first.
async function fetchAudit(filters, order) {
  let events = [];
  let after = null;
  let total = 0;
  let truncated = false;
  for (let i = 0; i < AUDIT_MAX_REQUESTS; i++) {
    const q = auditParams(filters);
    q.set('limit', String(AUDIT_FETCH));
    if (after != null) q.set('after_seq', String(after));
    const { data } = await api('GET', `/api/v1/audit?${q}`);
    const batch = data.events || [];
    total += batch.length;
    events.push(...batch);
    const more = data.next_after_seq != null && batch.length > 0;
    if (order === 'asc' && events.length >= AUDIT_CAP) { truncated = more || events.length > AUDIT_CAP; events = events.slice(0, AUDIT_CAP); break; }
    if (events.length > AUDIT_CAP) { events = events.slice(-AUDIT_CAP); truncated = true; }
    if (!more) break;
    after = data.next_after_seq;
    if (i === AUDIT_MAX_REQUESTS - 1) truncated = true;
  }
  if (order === 'desc') events.reverse();
  return { events, total, truncated };
}
// datetime-local (minutes, local time) -> RFC 3339 UTC; `endOfMinute` makes "until 10:05" include 10:05:59.999.
function localInputToIso(v, endOfMinute = false) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : new Date(d.getTime() + (endOfMinute ? 59_999 : 0)).toISOString();
}
function isoToLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
async function renderAudit(gen) {
  const a = state.audit;
  const f = a.filters;
  const input = (name, label, props = {}) => h('div', { class: 'field' }, h('label', { for: `audit-${name}` }, label),
    h('input', { id: `audit-${name}`, name, 'data-testid': `audit-filter-${name.replace('_', '-')}`, autocomplete: 'off', ...props }));
  const filterErr = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'audit-filter-error' });
  const form = h('form', { class: 'filters', novalidate: true, 'data-testid': 'audit-filters', 'aria-label': 'Filter events' },
    input('token_id', 'Token id', { value: f.token_id || '' }),
    input('actor', 'Actor', { value: f.actor || '' }),
    input('type', 'Action', { value: f.type || '', list: 'audit-types' }),
    h('datalist', { id: 'audit-types' }, EVENT_TYPES.map((t) => h('option', { value: t }))),
    input('since', 'Since (local time)', { type: 'datetime-local', value: isoToLocalInput(f.since) }),
    input('until', 'Until (local time)', { type: 'datetime-local', value: isoToLocalInput(f.until) }),
    h('div', { class: 'filter-buttons' },
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'audit-apply' }, 'Apply filters'),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-clear', onclick: () => { a.filters = {}; a.page = 0; router(); } }, 'Clear')),
    filterErr);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = (n) => form.elements[n].value.trim();
    const since = localInputToIso(v('since'));
    const until = localInputToIso(v('until'), true);
    if (since === null || until === null) { filterErr.textContent = 'Enter a valid date and time.'; return; }
    if (since && until && since > until) { filterErr.textContent = '“Since” must be before “Until”.'; return; }
    a.filters = { token_id: v('token_id'), actor: v('actor'), type: v('type'), since, until };
    a.page = 0;
    loadAuditEvents(gen);
  });
  const order = h('select', { id: 'audit-order', 'data-testid': 'audit-order' },
    h('option', { value: 'desc', selected: a.order === 'desc' }, 'Newest first'),
    h('option', { value: 'asc', selected: a.order === 'asc' }, 'Oldest first'));
  order.addEventListener('change', () => {
    a.order = order.value;
    a.page = 0;
    if (a.truncated) loadAuditEvents(gen); else { a.events.reverse(); renderAuditTable(); }
  });
  setView('Audit log', 'audit-view',
    h('div', { class: 'view-head' }, h('h1', { text: 'Audit log' }),
      h('p', { class: 'exports' }, 'Export: ',
        h('a', { href: exportHref('jsonl'), download: 'audit.jsonl', 'data-testid': 'export-jsonl' }, 'JSONL'), ' · ',
        h('a', { href: exportHref('csv'), download: 'audit.csv', 'data-testid': 'export-csv' }, 'CSV'))),
    h('div', { class: 'verify-row' },
      h('p', { class: 'verify pending', 'data-testid': 'verify-status', role: 'status', text: 'Verifying the history…' }),
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'verify-button', onclick: () => verifyHistory() }, 'Verify again')),
    form,
    h('div', { class: 'table-tools' }, h('label', { for: 'audit-order' }, 'Order '), order,
      h('p', { class: 'summary', 'data-testid': 'audit-summary', role: 'status' })),
    h('div', { id: 'audit-body' }, h('p', { class: 'loading', text: 'Loading events…' })),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-prev', onclick: () => { a.page--; renderAuditTable(); } }, '‹ Previous'),
      h('span', { class: 'page-no', 'data-testid': 'audit-page' }),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-next', onclick: () => { a.page++; renderAuditTable(); } }, 'Next ›')));
  verifyHistory();
  await loadAuditEvents(gen);
}
async function verifyHistory() {
  const el = $('[data-testid="verify-status"]');
  if (!el) return;
  el.className = 'verify pending';
  el.textContent = 'Verifying the history…';
  try {
    const { data } = await api('GET', '/api/v1/audit/verify');
    if (!el.isConnected) return;
    const head = data.head || {};
    if (data.ok) {
      el.className = 'verify ok';
      el.textContent = `✓ History verified: ${data.events} events, head #${head.seq ?? '—'} ${String(head.hash || '').slice(0, 12)}…`;
      el.title = head.hash ? `head hash ${head.hash}` : '';
    } else {
      const bad = data.first_bad_seq ?? data.bad_seq ?? data.seq ?? data.failed_at_seq;
      el.className = 'verify bad';
      const why = data.problem || data.message || data.reason;
      el.textContent = `✗ History verification FAILED${bad != null ? ` at event #${bad}` : ''}${why ? `: ${why}` : ''}. The audit trail may have been altered.`;
    }
  } catch (e) {
    if (e.status === 401 || !el.isConnected) return;
    el.className = 'verify bad';
    el.textContent = `Could not verify the history. ${describeError(e)}`;
  }
}
let auditReq = 0;
async function loadAuditEvents(gen) {
  const a = state.audit;
  const body = $('#audit-body');
  const mine = ++auditReq;
  for (const link of document.querySelectorAll('[data-testid^="export-"]')) link.href = exportHref(link.dataset.testid.slice(7));
  body.setAttribute('aria-busy', 'true');
  try {
    const r = await fetchAudit(a.filters, a.order);
    if (gen !== renderGen || mine !== auditReq) return;
    Object.assign(a, r);
    renderAuditTable();
  } catch (e) {
    if (gen !== renderGen || mine !== auditReq || e.status === 401) return;
    a.events = [];
    body.replaceChildren(h('p', { class: 'form-error', role: 'alert', 'data-testid': 'audit-error', text: `Could not load the audit log. ${describeError(e)}` }));
    $('[data-testid="audit-summary"]').textContent = '';
  } finally { body.removeAttribute('aria-busy'); }
}
function renderAuditTable() {
  const a = state.audit;
  const body = $('#audit-body');
  if (!body) return;
  const pages = Math.max(1, Math.ceil(a.events.length / AUDIT_PAGE));
  a.page = Math.min(Math.max(0, a.page), pages - 1);
  const start = a.page * AUDIT_PAGE;
  const rows = a.events.slice(start, start + AUDIT_PAGE);
  const summary = $('[data-testid="audit-summary"]');
  if (!a.events.length) summary.textContent = 'No events.';
  else {
    const of = a.truncated ? (a.order === 'desc' ? `the newest ${a.events.length} of ${a.total}` : `the first ${a.events.length}`) : `${a.events.length}`;
    summary.textContent = `Events ${start + 1}–${start + rows.length} of ${of}${a.truncated ? ' (narrow the filters or use the export for all)' : ''}.`;
  }
  $('[data-testid="audit-prev"]').disabled = a.page <= 0;
  $('[data-testid="audit-next"]').disabled = a.page >= pages - 1;
  $('[data-testid="audit-page"]').textContent = `Page ${a.page + 1} of ${pages}`;
  if (!rows.length) {
    body.replaceChildren(h('p', { class: 'empty', 'data-testid': 'audit-empty', text: 'No events match these filters.' }));
    return;
  }
  const dash = (v) => (v == null || v === '' ? '—' : String(v));
  body.replaceChildren(h('table', { class: 'data audit', 'data-testid': 'audit-table' },
    h('caption', { class: 'sr-only', text: 'Audit events' }),
    h('thead', {}, h('tr', {}, ['#', 'Time', 'Actor', 'Action', 'Token', 'Owner', 'IP', 'Details'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.map((ev) => h('tr', { 'data-testid': 'audit-row', 'data-seq': ev.seq, 'data-type': ev.type },
      h('td', { 'data-label': '#', 'data-testid': 'audit-seq', text: dash(ev.seq) }),
      h('td', { 'data-label': 'Time', 'data-testid': 'audit-time' }, timeEl(ev.at, true)),
      h('td', { 'data-label': 'Actor', 'data-testid': 'audit-actor' }, dash(ev.actor?.user),
        ev.actor?.via ? h('span', { class: 'muted', text: ` via ${ev.actor.via}` }) : null),
      h('td', { 'data-label': 'Action', 'data-testid': 'audit-type', text: dash(ev.type) }),
      h('td', { 'data-label': 'Token', 'data-testid': 'audit-token' },
        ev.token_id ? h('code', { class: 'ellipsis', title: ev.token_id, text: ev.token_id }) : '—'),
      h('td', { 'data-label': 'Owner', 'data-testid': 'audit-owner', text: dash(ev.owner) }),
      h('td', { 'data-label': 'IP', 'data-testid': 'audit-ip', text: dash(ev.source?.ip) }),
      h('td', { 'data-label': 'Details' }, h('details', {}, h('summary', { text: 'View' }),
        h('pre', { text: JSON.stringify({ data: ev.data, stream: ev.stream, version: ev.version, source: ev.source, prev_hash: ev.prev_hash, hash: ev.hash }, null, 2) }))))))));
}

// ---------- users (admins) ----------
let usersCache = [];
let userEditing = null;
let focusAfterUsers = null;   // selector focused once the user list is shown again
async function renderUsers(gen) {
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
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'retry', onclick: () => router() }, 'Retry'));
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
  router();
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

// ---------- start ----------
async function boot() {
  try {
    await loadMe();
  } catch (e) {
    setView('Cannot reach tokenledger', 'fatal', h('div', { class: 'card' },
      h('h1', { text: 'Cannot load tokenledger' }),
      h('p', { role: 'alert', text: describeError(e) }),
      h('button', { type: 'button', class: 'primary', 'data-testid': 'retry', onclick: boot }, 'Retry')));
    return;
  }
  router();
}
function wire() {
  window.addEventListener('hashchange', async () => {
    hideBanner();
    await router();
    // After a navigation keep the keyboard focus in the page, not on the closed menu.
    const active = document.activeElement;
    if ((!active || active === document.body || $('#avatar').contains(active)) && !document.querySelector('dialog[open]')) $('#main').focus();
  });
  $('#banner-close').addEventListener('click', hideBanner);
  $('#avatar-button').addEventListener('click', () => ($('#avatar-menu').hidden ? openMenu() : closeMenu()));
  $('#avatar').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !$('#avatar-menu').hidden) { closeMenu(); $('#avatar-button').focus(); }
  });
  document.addEventListener('click', (ev) => { if (!$('#avatar').contains(ev.target) || ev.target.closest('#avatar-menu a')) closeMenu(); });
  $('#avatar').addEventListener('focusout', (ev) => { if (ev.relatedTarget && !$('#avatar').contains(ev.relatedTarget)) closeMenu(); });
  setupDialog($('#token-dialog'), submitToken);
  $('#token-timeout').addEventListener('input', previewExpiry);
  setupDialog($('#confirm-dialog'), submitConfirm);
  setupDialog($('#user-dialog'), submitUser);
  boot();
}
wire();
