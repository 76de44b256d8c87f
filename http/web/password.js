// "Change password" (every user): PATCH /api/v1/me/password {"current", "new"} -> 204.
// When the server requires a change (GET /api/v1/me says must_change_password, or any call answers
// 403 password_change_required) the router shows only this screen until the change is done.
import { h } from './dom.js';
import { api, describeError, fieldMessage, fieldOf } from './api.js';
import { setFieldError } from './dialogs.js';
import { defaultRoute, go, setView } from './nav.js';
import { toast } from './notify.js';
import { loadMe, sessionEnded } from './session.js';
import { state } from './state.js';

export const PASSWORD_RULES = 'At least 12 characters; not a common password.';
export const MIN_PASSWORD = 12;

function field(id, label, testid, autocomplete, hint) {
  const input = h('input', { id, type: 'password', autocomplete, 'data-testid': testid, 'aria-describedby': `${id}-error${hint ? ` ${id}-hint` : ''}` });
  const err = h('p', { class: 'field-error', id: `${id}-error`, 'data-testid': `${testid}-error`, 'aria-live': 'polite' });
  return { input, err, el: h('div', { class: 'field' }, h('label', { for: id }, label), input,
    hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null, err) };
}

export function renderPassword() {
  const forced = !!state.me.must_change_password;
  const cur = field('pw-current', 'Current password', 'pw-current', 'current-password');
  const nw = field('pw-new', 'New password', 'pw-new', 'new-password', PASSWORD_RULES);
  const again = field('pw-confirm', 'New password again', 'pw-confirm', 'new-password');
  const formErr = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'pw-form-error' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'pw-submit' }, 'Change password');
  const form = h('form', { class: 'card narrow', novalidate: true, 'data-testid': 'password-form' },
    h('h1', { text: 'Change password' }),
    forced ? h('p', { class: 'notice', 'data-testid': 'pw-required', text: 'An administrator set your password. Choose a new one of your own to continue.' }) : null,
    h('input', { type: 'text', name: 'username', autocomplete: 'username', value: state.me.user, hidden: true, readonly: true }),
    cur.el, nw.el, again.el, formErr, h('div', { class: 'form-buttons' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const f of [cur, nw, again]) { f.err.textContent = ''; f.input.removeAttribute('aria-invalid'); }
    formErr.textContent = '';
    // Every problem at once, the first invalid field focused.
    const bad = [];
    if (!cur.input.value) { setFieldError(cur.input, cur.err, 'Enter your current password.'); bad.push(cur.input); }
    if ([...nw.input.value].length < MIN_PASSWORD) { setFieldError(nw.input, nw.err, `At least ${MIN_PASSWORD} characters (now ${[...nw.input.value].length}).`); bad.push(nw.input); }
    if (again.input.value !== nw.input.value) { setFieldError(again.input, again.err, 'The two new passwords differ.'); bad.push(again.input); }
    if (bad.length) { bad[0].focus(); return; }
    submit.disabled = true;
    try {
      // auth: false: a wrong current password may be answered 401 without the session having ended.
      await api('PATCH', '/api/v1/me/password', { body: { current: cur.input.value, new: nw.input.value }, auth: false });
      for (const f of [cur, nw, again]) f.input.value = '';
      await loadMe();
      toast('Password changed.', null);
      go(defaultRoute(state.me));
    } catch (e) {
      if (e.status === 401) {
        const was = state.me;
        await loadMe().catch(() => {});
        if (!state.me) { state.me = was; sessionEnded(); return; }
        setFieldError(cur.input, cur.err, 'Wrong password.'); cur.input.focus(); return;
      }
      const f = e.status === 400 || e.status === 403 ? fieldOf(e, ['current', 'new', 'password']) : null;
      if (f === 'current' || (e.status === 403 && e.code !== 'password_change_required')) { setFieldError(cur.input, cur.err, e.status === 403 ? 'Wrong password.' : fieldMessage(e)); cur.input.focus(); }
      else if (f === 'new' || f === 'password') { setFieldError(nw.input, nw.err, fieldMessage(e)); nw.input.focus(); }
      else formErr.textContent = describeError(e);
    } finally { submit.disabled = false; }
  });
  setView('Change password', 'password-view', form);
  return cur.input;
}
