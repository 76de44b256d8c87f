// Modal dialogs: submit handling, field errors, focus return, and the shared Yes/No confirmation.
import { $ } from './dom.js';
import { describeError } from './api.js';

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
