// The header's avatar menu: links to the screens the user may open, changing the password, the
// display settings (dark theme, times in UTC) and logging out.
import { $, fill, h } from './dom.js';
import { api, describeError } from './api.js';
import { currentRoute, go, rerender } from './nav.js';
import { showBanner } from './notify.js';
import { setTheme, setUseUtc, theme, useUtc } from './prefs.js';
import { state, resetUserState } from './state.js';

export function renderHeader() {
  const me = state.me;
  $('#avatar').hidden = !me;
  if (!me) { closeMenu(); return; }
  $('#avatar-name').textContent = me.user;
  $('#avatar-initial').textContent = (me.user || '?').slice(0, 1).toUpperCase();
  const route = currentRoute();
  const link = (r, label, testid) => h('li', {}, h('a', { href: `#/${r}`, 'data-testid': testid, 'aria-current': route === r ? 'page' : null }, label));
  // Only the user's own links (fill() drops the nulls that replaceChildren() would show as "null").
  const mustChange = !!me.must_change_password;
  const toggle = (label, on, testid, onclick) => h('li', {}, h('button', { type: 'button', class: 'menu-item menu-toggle', 'data-testid': testid,
    'aria-pressed': on ? 'true' : 'false', onclick }, label, h('span', { class: 'toggle-state', 'aria-hidden': 'true', text: on ? 'On' : 'Off' })));
  fill($('#avatar-menu'), [
    h('li', { class: 'menu-user' }, 'Signed in as ', h('strong', { text: me.user })),
    !mustChange && me.can_manage_tokens ? link('tokens', 'API Tokens', 'nav-tokens') : null,
    !mustChange && me.can_audit ? link('audit', 'Audit log', 'nav-audit') : null,
    !mustChange && me.can_admin ? link('users', 'Users', 'nav-users') : null,
    h('li', { class: 'menu-sep' }, h('a', { href: '#/password', 'data-testid': 'nav-password', 'aria-current': route === 'password' ? 'page' : null }, 'Change password')),
    toggle('Dark theme', theme() === 'dark', 'toggle-dark', () => { setTheme(theme() === 'dark' ? 'light' : 'dark'); renderHeader(); $('[data-testid="toggle-dark"]').focus(); }),
    toggle('Times in UTC', useUtc(), 'toggle-utc', async () => { setUseUtc(!useUtc()); await rerender(); openMenu(); $('[data-testid="toggle-utc"]').focus(); }),
    h('li', { class: 'menu-sep' }, h('button', { type: 'button', class: 'menu-item', 'data-testid': 'logout', onclick: logout }, 'Log out')),
  ]);
}
export function openMenu() { $('#avatar-menu').hidden = false; $('#avatar-button').setAttribute('aria-expanded', 'true'); }
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
  document.addEventListener('click', (ev) => { if (ev.target.isConnected && (!$('#avatar').contains(ev.target) || ev.target.closest('#avatar-menu a'))) closeMenu(); });
  $('#avatar').addEventListener('focusout', (ev) => { if (ev.relatedTarget && !$('#avatar').contains(ev.relatedTarget)) closeMenu(); });
}
