// The audit log screen (auditors): filters, order, paging, exports and verifying the hash chain.
import { $, h } from './dom.js';
import { api, describeError } from './api.js';
import { FILTER_TYPES, actionLabel, auditTable } from './audit_table.js';
import { isoToLocalInput, localInputToIso } from './format.js';
import { rerender, setView } from './nav.js';
import { renderGen, state } from './state.js';
const AUDIT_PAGE = 50;       // rows per page shown
const AUDIT_FETCH = 1000;    // events per request (the API's maximum)
const AUDIT_CAP = 5000;      // events kept in memory for one query
const AUDIT_MAX_REQUESTS = 500;

// The API matches `actor` exactly; user names are lower case (a-z, 0-9, . _ -), so sending what was
// typed in lower case makes the filter ignore case, in the table and in the exports alike.
function auditParams(filters) {
  const q = new URLSearchParams();
  for (const k of ['token_id', 'type', 'since', 'until']) if (filters[k]) q.set(k, filters[k]);
  if (filters.actor) q.set('actor', filters.actor.toLowerCase());
  return q;
}
// The CSV is for spreadsheets: with UTF-8's byte order mark, so that they read names like "Müller" as written.
function exportHref(format) {
  const q = auditParams(state.audit.filters);
  q.set('format', format);
  if (format === 'csv') q.set('bom', '1');
  return `/api/v1/audit/export?${q}`;
}
// Reads every matching event (ascending, via next_after_seq). Keeps the first AUDIT_CAP for oldest-first,
// the last AUDIT_CAP for newest-first.
async function fetchAudit(filters, order) {
  let events = [];
  let after = null;
  let total = 0;
  let truncated = false;
  for (let i = 0; i < AUDIT_MAX_REQUESTS; i++) {
    const q = auditParams(filters);
    q.set('limit', String(AUDIT_FETCH));
    if (after != null) q.set('after_seq', String(after));
    const { data } = await api('GET', `/api/v1/audit?${q}`);
    const batch = data.events || [];
    total += batch.length;
    events.push(...batch);
    const more = data.next_after_seq != null && batch.length > 0;
    if (order === 'asc' && events.length >= AUDIT_CAP) { truncated = more || events.length > AUDIT_CAP; events = events.slice(0, AUDIT_CAP); break; }
    if (events.length > AUDIT_CAP) { events = events.slice(-AUDIT_CAP); truncated = true; }
    if (!more) break;
    after = data.next_after_seq;
    if (i === AUDIT_MAX_REQUESTS - 1) truncated = true;
  }
  if (order === 'desc') events.reverse();
  return { events, total, truncated };
}

export async function renderAudit(gen) {
  const a = state.audit;
  const f = a.filters;
  const input = (name, label, props = {}) => h('div', { class: 'field' }, h('label', { for: `audit-${name}` }, label),
    h('input', { id: `audit-${name}`, name, 'data-testid': `audit-filter-${name.replace('_', '-')}`, autocomplete: 'off', ...props }));
  const filterErr = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'audit-filter-error' });
  const form = h('form', { class: 'filters', novalidate: true, 'data-testid': 'audit-filters', 'aria-label': 'Filter events' },
    input('token_id', 'Token id', { value: f.token_id || '' }),
    h('div', { class: 'field' }, h('label', { for: 'audit-actor' }, 'Actor'),
      h('input', { id: 'audit-actor', name: 'actor', 'data-testid': 'audit-filter-actor', autocomplete: 'off', value: f.actor || '', 'aria-describedby': 'audit-actor-hint' }),
      h('p', { class: 'hint', id: 'audit-actor-hint', text: 'A user name; upper and lower case are the same.' })),
    h('div', { class: 'field' }, h('label', { for: 'audit-type' }, 'Action'),
      h('select', { id: 'audit-type', name: 'type', 'data-testid': 'audit-filter-type' },
        h('option', { value: '', text: 'Any action' }),
        FILTER_TYPES.map((type) => h('option', { value: type, selected: f.type === type, text: actionLabel(type) })))),
    input('since', 'Since (local time)', { type: 'datetime-local', value: isoToLocalInput(f.since) }),
    input('until', 'Until (local time)', { type: 'datetime-local', value: isoToLocalInput(f.until) }),
    h('div', { class: 'filter-buttons' },
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'audit-apply' }, 'Apply filters'),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-clear', onclick: () => { a.filters = {}; a.page = 0; rerender(); } }, 'Clear')),
    filterErr);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = (n) => form.elements[n].value.trim();
    const since = localInputToIso(v('since'));
    const until = localInputToIso(v('until'), true);
    if (since === null || until === null) { filterErr.textContent = 'Enter a valid date and time.'; return; }
    if (since && until && since > until) { filterErr.textContent = '“Since” must be before “Until”.'; return; }
    a.filters = { token_id: v('token_id'), actor: v('actor'), type: v('type'), since, until };
    a.page = 0;
    loadAuditEvents(gen);
  });
  const order = h('select', { id: 'audit-order', 'data-testid': 'audit-order' },
    h('option', { value: 'desc', selected: a.order === 'desc' }, 'Newest first'),
    h('option', { value: 'asc', selected: a.order === 'asc' }, 'Oldest first'));
  order.addEventListener('change', () => {
    a.order = order.value;
    a.page = 0;
    if (a.truncated) loadAuditEvents(gen); else { a.events.reverse(); renderAuditTable(); }
  });
  setView('Audit log', 'audit-view',
    h('div', { class: 'view-head' }, h('h1', { text: 'Audit log' }),
      h('p', { class: 'exports' }, 'Export: ',
        h('a', { href: exportHref('jsonl'), download: 'audit.jsonl', 'data-testid': 'export-jsonl' }, 'JSONL'), ' · ',
        h('a', { href: exportHref('csv'), download: 'audit.csv', 'data-testid': 'export-csv' }, 'CSV'))),
    h('div', { class: 'verify-row' },
      h('p', { class: 'verify pending', 'data-testid': 'verify-status', role: 'status', text: 'Verifying the history…' }),
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'verify-button', onclick: () => verifyHistory() }, 'Verify again')),
    form,
    h('div', { class: 'table-tools' }, h('label', { for: 'audit-order' }, 'Order '), order,
      h('p', { class: 'summary', 'data-testid': 'audit-summary', role: 'status' })),
    h('div', { id: 'audit-body' }, h('p', { class: 'loading', text: 'Loading events…' })),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-prev', onclick: () => { a.page--; renderAuditTable(); } }, '‹ Previous'),
      h('span', { class: 'page-no', 'data-testid': 'audit-page' }),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-next', onclick: () => { a.page++; renderAuditTable(); } }, 'Next ›')));
  verifyHistory();
  await loadAuditEvents(gen);
}
async function verifyHistory() {
  const el = $('[data-testid="verify-status"]');
  if (!el) return;
  el.className = 'verify pending';
  el.textContent = 'Verifying the history…';
  try {
    const { data } = await api('GET', '/api/v1/audit/verify');
    if (!el.isConnected) return;
    const head = data.head || {};
    if (data.ok) {
      el.className = 'verify ok';
      el.textContent = `✓ History verified: ${data.events} events, head #${head.seq ?? '—'} ${String(head.hash || '').slice(0, 12)}…`;
      el.title = head.hash ? `head hash ${head.hash}` : '';
    } else {
      const bad = data.first_bad_seq ?? data.bad_seq ?? data.seq ?? data.failed_at_seq;
      el.className = 'verify bad';
      const why = data.problem || data.message || data.reason;
      el.textContent = `✗ History verification FAILED${bad != null ? ` at event #${bad}` : ''}${why ? `: ${why}` : ''}. The audit trail may have been altered.`;
    }
  } catch (e) {
    if (e.status === 401 || !el.isConnected) return;
    el.className = 'verify bad';
    el.textContent = `Could not verify the history. ${describeError(e)}`;
  }
}
let auditReq = 0;
async function loadAuditEvents(gen) {
  const a = state.audit;
  const body = $('#audit-body');
  const mine = ++auditReq;
  for (const link of document.querySelectorAll('[data-testid^="export-"]')) link.href = exportHref(link.dataset.testid.slice(7));
  body.setAttribute('aria-busy', 'true');
  try {
    const r = await fetchAudit(a.filters, a.order);
    if (gen !== renderGen || mine !== auditReq) return;
    Object.assign(a, r);
    renderAuditTable();
  } catch (e) {
    if (gen !== renderGen || mine !== auditReq || e.status === 401) return;
    a.events = [];
    body.replaceChildren(h('p', { class: 'form-error', role: 'alert', 'data-testid': 'audit-error', text: `Could not load the audit log. ${describeError(e)}` }));
    $('[data-testid="audit-summary"]').textContent = '';
  } finally { body.removeAttribute('aria-busy'); }
}
function renderAuditTable() {
  const a = state.audit;
  const body = $('#audit-body');
  if (!body) return;
  const pages = Math.max(1, Math.ceil(a.events.length / AUDIT_PAGE));
  a.page = Math.min(Math.max(0, a.page), pages - 1);
  const start = a.page * AUDIT_PAGE;
  const rows = a.events.slice(start, start + AUDIT_PAGE);
  const summary = $('[data-testid="audit-summary"]');
  if (!a.events.length) summary.textContent = 'No events.';
  else {
    const of = a.truncated ? (a.order === 'desc' ? `the newest ${a.events.length} of ${a.total}` : `the first ${a.events.length}`) : `${a.events.length}`;
    summary.textContent = `Events ${start + 1}–${start + rows.length} of ${of}${a.truncated ? ' (narrow the filters or use the export for all)' : ''}.`;
  }
  $('[data-testid="audit-prev"]').disabled = a.page <= 0;
  $('[data-testid="audit-next"]').disabled = a.page >= pages - 1;
  $('[data-testid="audit-page"]').textContent = `Page ${a.page + 1} of ${pages}`;
  if (!rows.length) {
    body.replaceChildren(h('p', { class: 'empty', 'data-testid': 'audit-empty', text: state.audit.filters.actor || state.audit.filters.token_id
      ? 'No events match these filters. Check the actor’s user name and the token id, or clear the filters.'
      : 'No events match these filters. Try a wider time range or another action.' }));
    return;
  }
  body.replaceChildren(auditTable(rows));
}

// A token's history for its owner (GET /api/v1/tokens/{id}/history): the same table, no filters.
export async function renderTokenHistory(gen, id) {
  const status = h('div', { class: 'status', 'data-testid': 'history-status' }, h('p', { class: 'loading', text: 'Loading the history…' }));
  setView('Token history', 'history-view',
    h('div', { class: 'view-head' }, h('h1', { text: 'Token history' }), h('a', { href: '#/tokens', class: 'button-link' }, 'Back to API Tokens')),
    h('p', { class: 'lead', text: 'Everything the audit log recorded about this token, newest first.' }), status);
  try {
    const { data } = await api('GET', `/api/v1/tokens/${encodeURIComponent(id)}/history`);
    if (gen !== renderGen) return;
    const events = (data.events || []).slice().reverse();
    status.replaceChildren(events.length ? auditTable(events) : h('p', { class: 'empty', 'data-testid': 'audit-empty', text: 'No events.' }));
  } catch (e) {
    if (gen !== renderGen || e.status === 401) return;
    status.replaceChildren(h('p', { class: 'form-error', role: 'alert', text: `Could not load the history. ${describeError(e)}` }));
  }
}
