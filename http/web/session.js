// Who is logged in: loading the current user, and what happens when the session ends.
import { api } from './api.js';
import { renderHeader } from './header.js';
import { currentRoute, go } from './nav.js';
import { state, resetUserState } from './state.js';

export async function loadMe() {
  try {
    state.me = (await api('GET', '/api/v1/me', { auth: false })).data;
  } catch (e) {
    state.me = null;
    if (e.status !== 401) throw e;
  }
  renderHeader();
}

// An API call answered 401: forget the user, close any dialog and ask to log in again.
export function sessionEnded() {
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
