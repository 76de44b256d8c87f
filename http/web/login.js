// The login screen.
import { h } from './dom.js';
import { api, ApiError, describeError } from './api.js';
import { defaultRoute, go, setView } from './nav.js';
import { loadMe } from './session.js';
import { state } from './state.js';

export function renderLogin() {
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
