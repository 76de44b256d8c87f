// tokenledger web UI: hash-routed (#/login, #/tokens, #/audit, #/users), no framework, no build step.
// Served under a strict CSP (default-src 'self'): no inline scripts or styles, no eval.
// Every element that tests touch carries a data-testid; user data is only ever set as text.
// This module is the entry point: the router, start-up and the page-wide event handlers.
// The screens live in their own modules (login.js, tokens.js, audit.js, users.js, pages.js).
import { $, h } from './dom.js';
import { describeError, onPasswordChangeRequired, onUnauthorized } from './api.js';
import { renderAudit, renderTokenHistory } from './audit.js';
import { setupConfirmDialog } from './dialogs.js';
import { closeMenu, renderHeader, setupMenu } from './header.js';
import { renderLogin } from './login.js';
import { currentRoute, defaultRoute, go, routeArg, setRouter, setView } from './nav.js';
import { hideBanner } from './notify.js';
import { renderPassword } from './password.js';
import { applyTheme, watchSystemTheme } from './prefs.js';
import { renderHome, renderNoGroup, renderNotFound } from './pages.js';
import { loadMe, sessionEnded } from './session.js';
import { nextRender, state } from './state.js';
import { renderTokens, setupTokenDialog } from './tokens.js';
import { renderUsers, setupUserDialog } from './users.js';

async function router() {
  const gen = nextRender();
  closeMenu();
  const route = currentRoute();
  if (route !== 'tokens') state.revealed.clear();
  if (!state.me && route !== 'login') {
    state.returnTo = route || null;
    location.replace('#/login');
    return;
  }
  if (route !== 'login' && state.me?.must_change_password) {
    // Until the password is changed the server refuses everything else: show only that screen.
    if (route !== 'password') { location.replace('#/password'); return; }
    renderPassword().focus();
  } else if (route === 'login') {
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
  } else if (route === 'history') {
    // A token's history: auditors get the audit log filtered to it, owners their token's own trail.
    const id = routeArg();
    if (state.me.can_audit) { state.audit.filters = { token_id: id }; state.audit.page = 0; location.replace('#/audit'); return; }
    await renderTokenHistory(gen, id);
  } else if (route === 'password') {
    renderPassword().focus();
  } else if (route === 'users') {
    if (state.me.can_admin) await renderUsers(gen);
    else renderNoGroup('Admins', 'admins', 'manage users and their groups');
  } else if (route === 'home') {
    renderHome();
  } else {
    renderNotFound();
  }
  renderHeader();
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
  setRouter(router);
  onUnauthorized(sessionEnded);
  onPasswordChangeRequired(() => {
    if (!state.me || state.me.must_change_password) return;
    state.me = { ...state.me, must_change_password: true };
    for (const d of document.querySelectorAll('dialog[open]')) d.close();
    go('password');
  });
  applyTheme();
  watchSystemTheme();
  window.addEventListener('hashchange', async () => {
    hideBanner();
    await router();
    // After a navigation keep the keyboard focus in the page, not on the closed menu.
    // A new screen starts at its top, header in view (focus() would scroll <main> to the top of the window).
    if (document.querySelector('dialog[open]')) return;
    window.scrollTo(0, 0);
    const active = document.activeElement;
    if (!active || active === document.body || $('#avatar').contains(active)) $('#main').focus({ preventScroll: true });
  });
  $('#banner-close').addEventListener('click', hideBanner);
  setupMenu();
  setupTokenDialog();
  setupConfirmDialog();
  setupUserDialog();
  boot();
}
wire();
