// The header's avatar menu: links to the screens the user may open, and logging out.
import { $, h } from './dom.js';
import { api, describeError } from './api.js';
import { currentRoute, go } from './nav.js';
import { showBanner } from './notify.js';
import { state, resetUserState } from './state.js';

export function renderHeader() {
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
export function closeMenu() { $('#avatar-menu').hidden = true; $('#avatar-button').setAttribute('aria-expanded', 'false'); }

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

// Open and close the menu with the button, Escape, clicks elsewhere and focus leaving it.
export function setupMenu() {
  $('#avatar-button').addEventListener('click', () => ($('#avatar-menu').hidden ? openMenu() : closeMenu()));
  $('#avatar').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !$('#avatar-menu').hidden) { closeMenu(); $('#avatar-button').focus(); }
  });
  document.addEventListener('click', (ev) => { if (!$('#avatar').contains(ev.target) || ev.target.closest('#avatar-menu a')) closeMenu(); });
  $('#avatar').addEventListener('focusout', (ev) => { if (ev.relatedTarget && !$('#avatar').contains(ev.relatedTarget)) closeMenu(); });
}
