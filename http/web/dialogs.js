// Modal dialogs: submit handling, field errors, focus return, the shared Yes/No confirmation and
// "Confirm it's you" (the password again).
import { $ } from './dom.js';
import { api, describeError } from './api.js';

// Submits run one at a time (the submit button is disabled meanwhile); Cancel closes; closing returns the focus.
export function setupDialog(dialog, onSubmit) {
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
export function clearErrors(dialog) {
  for (const p of dialog.querySelectorAll('.field-error, .form-error')) p.textContent = '';
  for (const i of dialog.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}
export function setFieldError(input, errEl, msg) { errEl.textContent = msg; input.setAttribute('aria-invalid', 'true'); }
export function openDialog(dialog, focusEl) {
  dialog.returnFocus = document.activeElement;
  dialog.showModal();
  (focusEl || dialog.querySelector('[autofocus]'))?.focus();
}

// Yes/No confirmation: `action` runs on Yes; if it throws, the error is shown in the dialog.
let confirmAction = null;
export function confirmDialog(title, text, action) {
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
export function setupConfirmDialog() { setupDialog($('#confirm-dialog'), submitConfirm); }

// "Confirm it's you": the password again (POST /api/v1/session/reauth) before the server shows a code.
// Resolves true once the server accepted the password, false when the dialog closes otherwise
// (Cancel, Escape, or the session ended). `returnFocus` gets the focus back when the dialog closes.
let reauthSettle = null;
export function confirmPassword(username, returnFocus) {
  const dialog = $('#reauth-dialog');
  if (dialog.open) return Promise.resolve(false);
  clearErrors(dialog);
  $('#reauth-username').value = username || '';
  $('#reauth-password').value = '';
  const answer = new Promise((resolve) => {
    reauthSettle = (ok) => { reauthSettle = null; resolve(ok); };
  });
  openDialog(dialog, $('#reauth-password'));
  if (returnFocus) dialog.returnFocus = returnFocus;
  return answer;
}
async function submitReauth() {
  const dialog = $('#reauth-dialog');
  const input = $('#reauth-password');
  const err = $('#reauth-error');
  clearErrors(dialog);
  if (!input.value) { setFieldError(input, err, 'Enter your password.'); input.focus(); return; }
  try {
    await api('POST', '/api/v1/session/reauth', { body: { password: input.value } });
  } catch (e) {
    if (e.status === 401) return; // the session ended: every dialog closes and the login screen opens
    let msg;
    if (e.status === 403 && e.code === 'reauthentication_required') msg = 'Wrong password. Try again.';
    else if (e.status === 429) msg = `Too many failed attempts. Wait ${e.retryAfter ? `${e.retryAfter} seconds` : 'a few minutes'} and try again.`;
    else msg = describeError(e);
    if (!dialog.open) return;
    setFieldError(input, err, msg);
    input.select();
    input.focus();
    return;
  }
  input.value = '';
  reauthSettle?.(true);
  dialog.close();
}
export function setupReauthDialog() {
  const dialog = $('#reauth-dialog');
  setupDialog(dialog, submitReauth);
  dialog.addEventListener('close', () => {
    $('#reauth-password').value = ''; // never keep the password around
    reauthSettle?.(false);
  });
  // Leaving the screen (back button, a link) cancels: the code would have nowhere to go.
  window.addEventListener('hashchange', () => { if (dialog.open) dialog.close(); });
}
