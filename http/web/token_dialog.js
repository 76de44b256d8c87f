// The add/edit token dialog: description (counted as the server counts it) and "Expires in" days
// with presets and the resulting date shown live. Editing offers "extend by N days from today" and
// sends the equivalent timeout counted from created_at (the API's timeout is from creation).
import { $ } from './dom.js';
import { api, describeError, fieldMessage, fieldOf } from './api.js';
import { clearErrors, openDialog, setFieldError, setupDialog } from './dialogs.js';
import { formatLongDate } from './format.js';
import { toast } from './notify.js';
import { state } from './state.js';
import { dropToken, refreshRow, renderTokenTable } from './tokens.js';

const DAY = 86_400_000;
const MAX_DAYS = 365;        // the API's limit on a timeout, counted from creation
const MAX_DESCRIPTION = 200; // code points after NFC and trimming, as the server counts

export function isExpired(t) { return t.expired === true || (t.expired == null && Date.parse(t.expires_at) <= Date.now()); }
// What the server stores: NFC, trimmed; its length in code points.
const normalized = (s) => s.normalize('NFC').trim();
const codePoints = (s) => [...s].length;

let tokenEditing = null;
let opener = null;
// Add (t == null) or edit token t; `from` is the button that opened it (the toast goes beside it).
export async function openTokenDialog(t, from) {
  const dialog = $('#token-dialog');
  if (dialog.open) return;
  opener = from;
  let current = null;
  if (t) {
    try { current = (await api('GET', `/api/v1/tokens/${encodeURIComponent(t.id)}`)).data; } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) { toast('That token no longer exists.', from, 'info'); dropToken(t.id); return; }
      toast(`Could not open the token. ${describeError(e)}`, from, 'error'); return;
    }
    if (isExpired(current)) { upsertToken(current); renderTokenTable(); toast(`“${current.description}” has expired: it is now under Expired.`, null, 'info'); return; }
  }
  tokenEditing = current;
  clearErrors(dialog);
  dialog.dataset.mode = current ? 'edit' : 'add';
  $('#token-dialog-title').textContent = current ? 'Edit token' : 'Add token';
  $('#token-submit').textContent = current ? 'Save' : 'Create';
  $('#token-timeout-label').textContent = current ? 'Extend by (days from today)' : 'Expires in (days)';
  $('#token-timeout-hint-edit').hidden = !current;
  $('#token-code-note').hidden = !current;
  $('#token-description').value = current ? current.description : '';
  $('#token-timeout').value = current ? '' : '30';
  updateCounter();
  previewExpiry();
  openDialog(dialog, $('#token-description'));
}
function updateCounter() {
  const n = codePoints(normalized($('#token-description').value));
  const el = $('#token-description-count');
  el.textContent = `${n} / ${MAX_DESCRIPTION}`;
  el.classList.toggle('over', n > MAX_DESCRIPTION);
}
// Whole days only: "1e2", "7.5" or "+3" are not days.
function daysValue() { const v = $('#token-timeout').value.trim(); return /^\d{1,4}$/.test(v) ? Number(v) : null; }
// The timeout (days from creation) for the typed days; editing counts them from now, to the nearest whole
// day (the API's unit), so the new expiry is within 12 hours of "N days from now" and always after now.
function timeoutFor(days) {
  if (!tokenEditing) return days;
  return Math.round((Date.now() + days * DAY - Date.parse(tokenEditing.created_at)) / DAY);
}
function previewExpiry() {
  const out = $('#token-expiry-preview');
  const days = daysValue();
  if (days == null || days < 1) {
    out.textContent = tokenEditing ? `Now expires on ${formatLongDate(new Date(tokenEditing.expires_at))}.` : '';
    return;
  }
  const from = tokenEditing ? Date.parse(tokenEditing.created_at) : Date.now();
  out.textContent = `Expires on ${formatLongDate(new Date(from + timeoutFor(days) * DAY))}.`;
}
export function upsertToken(t) {
  const i = state.tokens.findIndex((x) => x.id === t.id);
  if (i >= 0) { state.tokens[i] = t; refreshRow(t.id); } else { state.tokens.unshift(t); renderTokenTable(); }
}
// Every field error at once; the first invalid field gets the focus. Returns the body to send, or null.
function validate() {
  const descIn = $('#token-description');
  const timeIn = $('#token-timeout');
  const description = normalized(descIn.value);
  const bad = [];
  const descErr = (m) => { setFieldError(descIn, $('#token-description-error'), m); bad.push(descIn); };
  if (!description) descErr('Enter a description, for example what the token is for.');
  else if (codePoints(description) > MAX_DESCRIPTION) descErr(`At most ${MAX_DESCRIPTION} characters (now ${codePoints(description)}).`);
  else if (/[\p{Cc}\p{Cf}]/u.test(description)) descErr('Control and invisible characters (such as tabs) are not allowed.');
  const days = daysValue();
  const editing = tokenEditing;
  const timeErr = (m) => { setFieldError(timeIn, $('#token-timeout-error'), m); bad.push(timeIn); };
  if (!(editing && timeIn.value.trim() === '')) {
    if (days == null || days < 1) timeErr(`Enter a whole number of days, 1 to ${MAX_DAYS}.`);
    else if (timeoutFor(days) > MAX_DAYS) {
      const most = MAX_DAYS - Math.round((Date.now() - Date.parse(editing.created_at)) / DAY);
      timeErr(most >= 1 ? `At most ${most} days from today: a token lives at most ${MAX_DAYS} days after it was created.`
        : `This token is already at its limit of ${MAX_DAYS} days after creation: create a new one instead.`);
    }
  }
  if (bad.length) { bad[0].focus(); return null; }
  const body = {};
  if (!editing || description !== editing.description) body.description = description;
  if (days != null && (!editing || timeoutFor(days) !== editing.timeout?.value)) body.timeout = { value: timeoutFor(days), unit: 'days' };
  return body;
}
async function submitToken() {
  const dialog = $('#token-dialog');
  const formErr = $('#token-form-error');
  clearErrors(dialog);
  const body = validate();
  if (!body) return;
  const editing = tokenEditing;
  if (editing && !Object.keys(body).length) { dialog.close(); return; }
  try {
    const { data } = editing
      ? await api('PATCH', `/api/v1/tokens/${encodeURIComponent(editing.id)}`,
        { body, headers: Number.isInteger(editing.version) ? { 'If-Match': `"${editing.version}"` } : {} })
      : await api('POST', '/api/v1/tokens', { body });
    upsertToken(data);
    const row = document.querySelector(`tbody[data-token-id="${CSS.escape(data.id)}"]`);
    const focus = row?.querySelector(editing ? '[data-testid="edit-token"]' : '[data-testid="show-toggle"]');
    dialog.returnFocus = focus;
    dialog.close();
    toast(editing ? `Saved “${data.description}”.` : `Created “${data.description}”. Use Show to see its code.`, focus || opener);
  } catch (e) {
    if (e.status === 401) return;
    const descIn = $('#token-description');
    const timeIn = $('#token-timeout');
    if (e.status === 400) {
      const f = fieldOf(e, ['description', 'timeout']);
      if (f === 'description') { setFieldError(descIn, $('#token-description-error'), fieldMessage(e)); descIn.focus(); } else if (f === 'timeout') { setFieldError(timeIn, $('#token-timeout-error'), fieldMessage(e)); timeIn.focus(); } else formErr.textContent = e.message;
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
      dialog.close(); dropToken(editing ? editing.id : ''); toast('That token no longer exists.', null, 'info');
    } else formErr.textContent = describeError(e);
  }
}

export function setupTokenForm() {
  setupDialog($('#token-dialog'), submitToken);
  // A field's error goes as soon as it is edited; the rest stay until the next submit.
  const clearOnInput = (input, err) => input.addEventListener('input', () => { $(err).textContent = ''; input.removeAttribute('aria-invalid'); });
  clearOnInput($('#token-timeout'), '#token-timeout-error');
  clearOnInput($('#token-description'), '#token-description-error');
  $('#token-timeout').addEventListener('input', previewExpiry);
  $('#token-description').addEventListener('input', updateCounter);
  for (const b of document.querySelectorAll('#token-presets button')) {
    b.addEventListener('click', () => { $('#token-timeout').value = b.dataset.days; $('#token-timeout').dispatchEvent(new Event('input')); });
  }
}
