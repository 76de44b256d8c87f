// Calls to the JSON API and turning its errors into text for people and form fields.

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    Object.assign(this, { status, code, field, retryAfter });
  }
}

// Called when an authenticated request answers 401 (the session has ended).
let unauthorized = () => {};
export function onUnauthorized(fn) { unauthorized = fn; }
// Called when a request answers 403 password_change_required (an admin set the password with must_change).
let changeRequired = () => {};
export function onPasswordChangeRequired(fn) { changeRequired = fn; }

function defaultMessage(status) {
  if (status === 401) return 'Your session has ended. Please log in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found: it may have been deleted.';
  if (status === 429) return 'Too many attempts. Wait a moment and try again.';
  if (status === 503) return 'The service is unavailable right now.';
  return `The server answered with an error (HTTP ${status}).`;
}

// Text for showing an error to a person.
export function describeError(e) {
  if (!(e instanceof ApiError)) return `Something went wrong: ${e && e.message ? e.message : e}`;
  const msg = /[.!?]$/.test(e.message) ? e.message : `${e.message}.`;
  if (e.status === 503) return `Service unavailable: ${msg} Nothing was changed; please try again later.`;
  if (e.status >= 500) return `Server error (HTTP ${e.status}): ${msg} Please try again.`;
  return msg;
}

export async function api(method, path, { body, headers = {}, auth = true } = {}) {
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
  if (res.status === 401 && auth) unauthorized();
  if (res.status === 403 && e.code === 'password_change_required') changeRequired();
  throw e;
}

// Which form field a 400 answer is about: an optional `field` member, else the message's "name: …" prefix,
// else a field name in the message.
export function fieldOf(e, names) {
  const f = String(e.field || '').split(/[.[/]/)[0] || (String(e.message).match(/^(\w+):/) || [])[1];
  if (names.includes(f)) return f;
  const msg = String(e.message || '').toLowerCase();
  return names.find((n) => msg.includes(n)) || (names.includes('timeout') && /\bdays?\b/.test(msg) ? 'timeout' : null);
}

// "description: must not be empty." shown next to Description reads better as "Must not be empty."
export function fieldMessage(e) {
  const m = String(e.message).replace(/^\w+:\s*/, '');
  return m ? m[0].toUpperCase() + m.slice(1) : e.message;
}
