// Browser test of the tokenledger web UI against the real server.
//
//   cd tests/browser && npm ci && TOKENLEDGER_BIN=/abs/path/tokenledger node --test ui.test.mjs
//
// Drives Debian's /usr/bin/chromium (CHROMIUM_PATH overrides) headless through playwright-core.
// The server runs on an ephemeral port with a fresh data directory; for the expired-token case it is
// restarted on the same data under `faketime -f +2d`. For "reveal with recent login" a second server
// (own data directory, --reveal-reauth-minutes 5) runs under libfaketime whose offset the test writes
// into a file. Screenshots go to tests/browser/output/.
// The steps share one browser page and run in order; after a failed step the rest are skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

const BIN = process.env.TOKENLEDGER_BIN;
const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('./output/', import.meta.url));
const ADMIN_PW = `admin-${randomBytes(9).toString('base64url')}`;
const INTROSPECTION_SECRET = `introspect-${randomBytes(18).toString('base64url')}`;
const PW = { alice: 'alice-Secret-2026!', bob: 'bob-Secret-2026!', carol: 'carol-Secret-2026!', dave: 'dave-Secret-2026!' };
// libfaketime for a server whose clock offset is read from a file (FAKETIME_LIB overrides).
const FAKETIME_LIB = process.env.FAKETIME_LIB || ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p)) || '';
const DAY_MS = 86_400_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server = null;   // { child, url, log, closed }
let reauthServer = null; // the second server of the "reveal with recent login" step, while it runs
let base = '';
let dataDir = '';
let browser = null;
let page = null;
let failed = false;
const pageErrors = [];

// ---------- the server process ----------
// Started in its own process group: `faketime` forks the real server, so we signal the whole group
// and wait for the stdio pipes to close, which happens only once every process holding them exited.
// `clockFile`: run the binary itself with libfaketime preloaded, its offset ("+0", "+10m") read from that
// file on every clock call, so the test can move the server's wall clock while it runs.
function startServer({ faketime, clockFile, data = dataDir, extraArgs = [] } = {}) {
  const args = ['--listen', '127.0.0.1:0', '--data', data, ...extraArgs];
  const [cmd, argv] = faketime ? ['faketime', ['-f', faketime, BIN, ...args]] : [BIN, args];
  const env = { ...process.env, TOKENLEDGER_ADMIN_PASSWORD: ADMIN_PW, TOKENLEDGER_INTROSPECTION_SECRET: INTROSPECTION_SECRET };
  if (faketime) env.FAKETIME_DONT_FAKE_MONOTONIC = '1'; // shift the wall clock only; steady timers stay sane
  if (clockFile) {
    delete env.FAKETIME;
    Object.assign(env, { LD_PRELOAD: FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1', NO_FAKE_STAT: '1' });
  }
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const s = { child, url: null, log: [], closed: null };
  s.closed = new Promise((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    const fail = (err) => {
      clearTimeout(timer);
      signalGroup(s, 'SIGKILL'); // never leave a half-started server behind
      child.stdout.destroy();
      child.stderr.destroy();
      reject(new Error(`${err.message}\n--- server output ---\n${s.log.join('\n')}`));
    };
    const timer = setTimeout(() => fail(new Error('the server did not print "listening on http://…" within 30 s')), 30_000);
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop();
        for (const line of lines) {
          s.log.push(line);
          if (s.log.length > 300) s.log.shift();
          const m = !s.url && line.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
          if (m) { s.url = m[1]; clearTimeout(timer); resolve(s); }
        }
      });
    }
    child.on('error', (e) => fail(new Error(`cannot start ${cmd}: ${e.message}`)));
    child.on('exit', (code, sig) => { if (!s.url) fail(new Error(`the server exited before listening (code ${code}, signal ${sig})`)); });
  });
}
function signalGroup(s, sig) { try { process.kill(-s.child.pid, sig); } catch { /* already gone */ } }
async function stopServer(s) {
  if (!s) return;
  const done = () => Promise.race([s.closed.then(() => true), sleep(15_000).then(() => false)]);
  signalGroup(s, 'SIGTERM');
  if (!(await done())) {
    signalGroup(s, 'SIGKILL');
    await Promise.race([s.closed, sleep(5_000)]);
    throw new Error(`the server did not stop within 15 s of SIGTERM\n${s.log.slice(-30).join('\n')}`);
  }
}
// Last resort when the test process itself ends abnormally.
function killServers() { for (const s of [server, reauthServer]) if (s) signalGroup(s, 'SIGKILL'); }
process.on('exit', killServers);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killServers(); process.exit(130); });

// ---------- HTTP API from node (the admin setup) ----------
async function http(method, p, { cookie, body } = {}) {
  const headers = { Accept: 'application/json', Origin: base };
  if (cookie) headers.Cookie = cookie;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, headers: res.headers, json };
}
async function apiLogin(username, password) {
  const r = await http('POST', '/api/v1/session', { body: { username, password } });
  assert.equal(r.status, 200, `login of ${username}: ${JSON.stringify(r.json)}`);
  // Node 18's fetch has no Headers.getSetCookie(); the server sets one cookie, so get() serves.
  const setCookies = typeof r.headers.getSetCookie === 'function'
    ? r.headers.getSetCookie() : [r.headers.get('set-cookie') ?? ''];
  const cookie = setCookies.map((c) => c.split(';')[0]).join('; ');
  assert.ok(cookie, 'the session answer sets a cookie');
  return cookie;
}

// Presents a token code the way a resource server does (RFC 7662 form body, service credential).
async function introspect(code, secret = INTROSPECTION_SECRET) {
  const res = await fetch(`${base}/api/v1/introspect`, {
    method: 'POST', headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ token: code }).toString(), signal: AbortSignal.timeout(10_000) });
  return { status: res.status, json: await res.json().catch(() => null) };
}

// ---------- browser helpers ----------
const tid = (id) => page.getByTestId(id);
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
async function eventually(fn, what, timeout = 10_000) {
  const end = Date.now() + timeout;
  let last = null;
  for (;;) {
    try { if (await fn()) return; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await sleep(100);
  }
}
const text = async (loc) => ((await loc.textContent()) || '').trim();
async function shot(name) { await page.screenshot({ path: path.join(OUT, name), fullPage: true }); }

// axe-core on the current screen at desktop (1280x800) and phone (390x844) width; any serious or critical
// violation fails the step. Injected through the DevTools protocol (page.evaluate), which the page's CSP
// does not govern; the page itself stays under its CSP.
const WIDTHS = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
async function axeCheck(screen) {
  // No stray "null"/"undefined" shown anywhere (a null child given to replaceChildren shows as text).
  const stray = await page.evaluate(() => document.body.innerText.match(/\b(null|undefined)\b/g));
  assert.equal(stray, null, `stray text on "${screen}"`);
  const before = page.viewportSize();
  try {
    for (const size of WIDTHS) {
      await page.setViewportSize(size);
      if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
      const found = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
      });
      assert.deepEqual(found, [], `axe on "${screen}" at ${size.width}x${size.height}`);
    }
  } finally {
    await page.setViewportSize(before);
  }
}
// Accessible names start with the visible words (WCAG 2.5.3): every button and link with visible text
// whose aria-label does not begin with that text is reported.
async function checkNames(screen) {
  const bad = await page.evaluate(() => [...document.querySelectorAll('button[aria-label], a[aria-label]')]
    .filter((el) => el.getClientRects().length > 0)
    .map((el) => [el.innerText.trim(), el.getAttribute('aria-label')])
    .filter(([visible, name]) => visible && !name.toLowerCase().startsWith(visible.toLowerCase())));
  assert.deepEqual(bad, [], `names not starting with the visible words on "${screen}"`);
}
// The toast (role=status, beside the control) says `re`.
async function expectToast(re) {
  await eventually(async () => re.test(await text(tid('toast'))), `a toast matching ${re}`);
  assert.equal(await tid('toast').getAttribute('role'), 'status');
}
// The avatar menu has only its own items: no stray text such as "null" (a null child of replaceChildren).
async function checkMenu(expected) {
  await openMenu();
  const items = await tid('avatar-menu').evaluate((ul) => [...ul.childNodes].map((n) => (n.nodeType === 1 ? n.tagName : `#text:${n.textContent}`)));
  assert.ok(items.every((n) => n === 'LI'), `only <li> children in the menu, got ${JSON.stringify(items)}`);
  assert.doesNotMatch(await text(tid('avatar-menu')), /null|undefined/);
  for (const id of ['nav-tokens', 'nav-audit', 'nav-users']) assert.equal(await tid(id).count(), expected.includes(id) ? 1 : 0, id);
  await tid('nav-password').waitFor();
  await axeCheck('avatar menu');
  await page.keyboard.press('Escape');
  await tid('avatar-menu').waitFor({ state: 'hidden' });
}
function tokenRow(description) {
  return tid('token-row').filter({ has: tid('token-description').filter({ hasText: new RegExp(`^${escapeRe(description)}$`) }) });
}
async function dialogOpen(testid) { return page.locator(`[data-testid="${testid}"]`).evaluate((d) => d.open); }
async function openMenu() {
  if ((await tid('avatar-button').getAttribute('aria-expanded')) !== 'true') await tid('avatar-button').click();
  await tid('avatar-menu').waitFor({ state: 'visible' });
}
async function login(username, password) {
  await page.goto(`${base}/#/login`);
  await tid('login-form').waitFor();
  await tid('login-username').fill(username);
  await tid('login-password').fill(password);
  await tid('login-submit').click();
  await eventually(async () => (await text(tid('avatar-name'))) === username && (await tid('avatar-name').isVisible()), `${username} to be logged in`);
}
async function logout() {
  await openMenu();
  await tid('logout').click();
  await tid('login-form').waitFor();
  assert.equal(await tid('avatar-button').isVisible(), false, 'the avatar menu is gone after logging out');
}
// The token's created/expires as shown (<time datetime>), in ms.
async function rowTimes(row) {
  const created = Date.parse(await row.getByTestId('token-created').locator('time').getAttribute('datetime'));
  const expires = Date.parse(await row.getByTestId('token-expires').locator('time').getAttribute('datetime'));
  return { created, expires };
}
async function addToken(description, days) {
  const before = await tokenRow(description).count();
  await tid('add-token').click();
  await eventually(() => dialogOpen('token-dialog'), 'the add dialog to open');
  await tid('description-input').fill(description);
  await tid('timeout-input').fill(String(days));
  await tid('token-submit').click();
  await eventually(async () => !(await dialogOpen('token-dialog')), 'the add dialog to close');
  await eventually(async () => (await tokenRow(description).count()) === before + 1, `the row of ${description}`);
}
// fetch() from inside the page: same origin, the browser's session cookie.
async function pageFetch(method, p, body) {
  return page.evaluate(async ([m, url, b]) => {
    const res = await fetch(url, { method: m, credentials: 'same-origin', headers: b ? { 'Content-Type': 'application/json' } : {},
      body: b ? JSON.stringify(b) : undefined, signal: AbortSignal.timeout(10_000) });
    const t = await res.text();
    let json = null;
    try { json = JSON.parse(t); } catch { json = t; }
    return { status: res.status, json };
  }, [method, p, body]);
}

function step(name, fn) {
  test(name, { timeout: 120_000 }, async (t) => {
    if (failed) { t.skip('an earlier step failed'); return; }
    let timer;
    try {
      await Promise.race([fn(t), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('step took over 100 s')), 100_000); })]);
    } catch (e) {
      failed = true;
      if (page) await shot(`failure-${name.replace(/\W+/g, '-').slice(0, 60)}.png`).catch(() => {});
      if (server) for (const line of ['last server output:', ...server.log.slice(-40)]) t.diagnostic(line);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  });
}

before(async () => {
  assert.ok(BIN, 'set TOKENLEDGER_BIN to the absolute path of the tokenledger binary');
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'tokenledger-ui-'));
  server = await startServer();
  base = server.url;
  const admin = await apiLogin('admin', ADMIN_PW);
  for (const [username, groups] of [['alice', ['api-tokens', 'auditors']], ['bob', []]]) {
    const r = await http('POST', '/api/v1/users', { cookie: admin, body: { username, password: PW[username], groups } });
    assert.equal(r.status, 201, `creating ${username}: ${JSON.stringify(r.json)}`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'Europe/Berlin' });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) pageErrors.push(`CSP: ${m.text()}`); });
});

after(async () => {
  const errors = [];
  if (browser) await Promise.race([browser.close(), sleep(10_000)]).catch((e) => errors.push(e));
  await stopServer(reauthServer).catch((e) => errors.push(e)); // only when its step ended abnormally
  reauthServer = null;
  await stopServer(server).catch((e) => errors.push(e));
  server = null;
  if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  if (errors.length) throw errors[0];
});

step('bob (no groups): wrong password, no API Tokens link, direct URL shows the group-needed page', async () => {
  await page.goto(`${base}/`);
  await tid('login-form').waitFor();
  await shot('login.png');
  await axeCheck('login');
  await tid('login-username').fill('bob');
  await tid('login-password').fill('not-his-password');
  await tid('login-submit').click();
  await eventually(async () => /wrong username or password/i.test(await text(tid('login-error'))), 'the wrong-password message');
  await login('bob', PW.bob);
  await openMenu();
  await tid('logout').waitFor();
  assert.equal(await tid('nav-tokens').count(), 0, 'bob must not see the API Tokens link');
  assert.equal(await tid('nav-audit').count(), 0, 'bob must not see the Audit log link');
  assert.equal(await tid('nav-users').count(), 0, 'bob must not see the Users link');
  await page.keyboard.press('Escape');
  await tid('avatar-menu').waitFor({ state: 'hidden' });
  await checkMenu([]);
  await axeCheck('home (no groups)');
  await page.goto(`${base}/#/tokens`);
  await tid('no-group').waitFor();
  assert.match(await text(tid('no-group')), /You need to be in the API Tokens group/);
  await shot('no-group.png');
  await axeCheck('group needed');
  const r = await pageFetch('GET', '/api/v1/tokens');
  assert.equal(r.status, 403, 'the API refuses bob too');
  await logout();
});

let tokenId = '';
let tokenCode = '';
step('alice: add a token (invalid input first), it appears masked', async () => {
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  await tid('tokens-empty').waitFor();
  await checkMenu(['nav-tokens', 'nav-audit']); // alice is not an admin
  await axeCheck('tokens (empty)');

  await tid('add-token').click();
  await eventually(() => dialogOpen('token-dialog'), 'the add dialog to open');
  assert.equal(await text(tid('token-dialog-title')), 'Add token');
  await tid('description-input').fill('');
  await tid('timeout-input').fill('30');
  await tid('token-submit').click();
  await eventually(async () => (await text(tid('description-error'))).length > 0, 'a field error next to Description');
  assert.ok(await dialogOpen('token-dialog'), 'the dialog stays open on invalid input');
  assert.equal(await tid('description-input').getAttribute('aria-invalid'), 'true');
  await shot('add-dialog.png');
  await axeCheck('add token dialog');
  await checkNames('add token dialog');

  await tid('description-input').fill('CI pipeline');
  await tid('timeout-input').fill('30');
  await tid('timeout-input').press('Enter'); // Enter submits
  await eventually(async () => !(await dialogOpen('token-dialog')), 'the add dialog to close');
  const row = tokenRow('CI pipeline');
  await row.waitFor();
  tokenId = await row.getAttribute('data-token-id');
  assert.ok(tokenId);
  assert.equal(await row.getByTestId('token-code').count(), 0, 'the new token\'s code is not shown');
  await expectToast(/^Created “CI pipeline”/);
  assert.equal(await text(row.getByTestId('show-toggle')), 'Show');
  assert.equal(await row.getByTestId('expired-badge').count(), 0);
  const { created, expires } = await rowTimes(row);
  assert.equal(expires - created, 30 * DAY_MS, 'expires = created + 30 days');
  assert.match(await row.getByTestId('token-created').locator('time').getAttribute('title'), /UTC$/, 'the UTC time is in the title');
  assert.match(await text(row.getByTestId('token-created')), /(GMT[+-]\d|CES?T)$/, 'the local time names its zone');
  await axeCheck('tokens');
  await checkNames('tokens');
});

step('alice: Show reveals the code, Hide masks it again', async () => {
  const row = tokenRow('CI pipeline');
  await row.getByTestId('show-toggle').click();
  await eventually(async () => (await text(row.getByTestId('show-toggle'))) === 'Hide', 'the button to become Hide');
  const code = await text(row.getByTestId('token-code'));
  tokenCode = code;
  assert.match(code, /^tlk_/, 'a revealed code starts with tlk_');
  assert.ok(code.length >= 32, 'a code has at least 32 characters');
  await row.getByTestId('copy-code').waitFor();
  // The code is on one line within the token's row, Copy beside it, and the Copy button keeps its name.
  const codeBox = await row.getByTestId('token-code').boundingBox();
  const lineHeight = await row.getByTestId('token-code').evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 20);
  assert.ok(codeBox.height < lineHeight * 1.8, `the code is on one line (height ${codeBox.height})`);
  const copyBox = await row.getByTestId('copy-code').boundingBox();
  assert.ok(Math.abs((copyBox.y + copyBox.height / 2) - (codeBox.y + codeBox.height / 2)) < 12, 'Copy is beside the code');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await row.getByTestId('copy-code').click();
  await expectToast(/copied|press Ctrl\+C/i);
  assert.equal(await row.getByTestId('copy-code').getAttribute('aria-label'), 'Copy code of CI pipeline');
  await checkNames('tokens with a shown code');
  await axeCheck('tokens with a shown code');
  await shot('tokens.png');
  await row.getByTestId('show-toggle').click();
  await eventually(async () => (await text(row.getByTestId('show-toggle'))) === 'Show', 'the button to become Show');
  assert.equal(await row.getByTestId('token-code').count(), 0, 'hidden again');
  assert.equal(await row.getByTestId('copy-code').count(), 0, 'no Copy while hidden');
});

step('alice: a token presented to introspection shows when and from where it was last used', async () => {
  const row = tokenRow('CI pipeline');
  assert.equal(await text(row.getByTestId('token-last-used')), 'Never used', 'showing a code is not a use');
  assert.equal((await introspect(tokenCode, 'not-the-secret')).status, 401, 'introspection needs the service credential');
  assert.equal(await text(row.getByTestId('token-last-used')), 'Never used');
  const before = Date.now();
  const r = await introspect(tokenCode);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json?.active, true);
  assert.equal(r.json?.sub, 'alice');
  assert.equal(r.json?.token_id, tokenId);

  await page.reload();
  await tid('tokens-view').waitFor();
  await row.waitFor();
  const cell = row.getByTestId('token-last-used');
  const time = cell.locator('time');
  await time.waitFor();
  const usedAt = Date.parse(await time.getAttribute('datetime'));
  assert.ok(usedAt >= before - 2_000 && usedAt <= Date.now() + 2_000, `the last use is now, got ${await time.getAttribute('datetime')}`);
  assert.match(await time.getAttribute('title'), /UTC$/, 'the UTC time is in the title');
  assert.ok((await text(time)).length > 0, 'the local time is shown');
  assert.match(await text(cell), /from 127\.0\.0\.1$/);
  assert.doesNotMatch(await text(cell), /Never used/);

  // Using the code as a Bearer token on an API call counts too.
  const res = await fetch(`${base}/api/v1/tokens`, { headers: { Authorization: `Bearer ${tokenCode}`, Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  const listed = (await res.json()).tokens.find((t) => t.id === tokenId);
  assert.ok(Date.parse(listed.last_used_at) >= usedAt, 'the Bearer call is the latest use');
  assert.equal(listed.last_used_ip, '127.0.0.1');
  assert.equal(await row.getByTestId('expiring-badge').count(), 0, 'a 30-day token does not expire soon');
  await shot('tokens-last-used.png');
});

step('alice: the audit view lists her reveal, verifies the chain, filters and orders', async () => {
  await openMenu();
  await tid('nav-audit').click();
  await tid('audit-table').waitFor();
  await eventually(async () => /History verified: \d+ events/.test(await text(tid('verify-status'))), 'the verification result');
  const reveal = tid('audit-row').filter({ has: tid('audit-type').filter({ hasText: /^Code shown$/ }) })
    .filter({ has: tid('audit-actor').filter({ hasText: /^alice\b/ }) });
  await eventually(async () => (await reveal.count()) >= 1, 'a "Code shown" row by alice');
  assert.equal(await reveal.first().getAttribute('data-type'), 'TokenRevealed');
  // The token is named by its description (at the time: token_description, or the creation's data); the id on demand.
  const created = tid('audit-row').filter({ has: tid('audit-type').filter({ hasText: /^Token created$/ }) }).first();
  assert.equal(await text(created.getByTestId('audit-token-desc')), 'CI pipeline');
  assert.equal(await reveal.first().getByTestId('audit-token-id').isVisible(), false, 'the full id is not shown until asked for');
  await reveal.first().getByTestId('audit-token-show-id').click();
  assert.equal(await text(reveal.first().getByTestId('audit-token-id')), tokenId);
  assert.equal(await reveal.first().getByTestId('audit-token-show-id').getAttribute('aria-expanded'), 'true');
  assert.match(await reveal.first().getByTestId('audit-time').locator('time').getAttribute('title'), /UTC$/);

  const seqs = async () => Promise.all((await tid('audit-seq').all()).map(async (c) => Number(await text(c))));
  let s = await seqs();
  assert.ok(s.length >= 3, `several events expected, got ${s.length}`);
  assert.ok(s[0] > s[s.length - 1], 'newest first by default');
  await shot('audit.png');
  await axeCheck('audit log');
  await checkNames('audit log');
  await tid('audit-order').selectOption('asc');
  await eventually(async () => { s = await seqs(); return s[0] < s[s.length - 1]; }, 'oldest first after switching');

  // The action filter offers plain-language labels; the actor matches ignoring case.
  await tid('audit-filter-type').selectOption({ label: 'Code shown' });
  await tid('audit-filter-actor').fill('ALICE');
  await tid('audit-apply').click();
  await eventually(async () => {
    const types = await tid('audit-type').allTextContents();
    const actors = await tid('audit-actor').allTextContents();
    return types.length >= 1 && types.every((t) => t === 'Code shown') && actors.every((a) => /^alice\b/.test(a));
  }, 'only "Code shown" rows by alice after filtering by "Code shown" and "ALICE"');
  for (const format of ['jsonl', 'csv']) {
    const href = await tid(`export-${format}`).getAttribute('href');
    assert.match(href, new RegExp(`format=${format}`));
    assert.match(href, /type=TokenRevealed/);
    if (format === 'csv') assert.match(href, /bom=1/, 'the CSV link asks for the byte order mark, for spreadsheets');
    const r = await pageFetch('GET', href);
    assert.equal(r.status, 200, `export ${format}`);
    assert.match(typeof r.json === 'string' ? r.json : JSON.stringify(r.json), /TokenRevealed/);
  }
  // The access events (issue 18): the UI's own sign-in is in the trail, named in plain language.
  await tid('audit-filter-type').selectOption({ label: 'Signed in' });
  await tid('audit-apply').click();
  await eventually(async () => {
    const types = await tid('audit-type').allTextContents();
    const actors = await tid('audit-actor').allTextContents();
    return types.length >= 1 && types.every((t) => t === 'Signed in') && actors.every((a) => /^alice\b/.test(a));
  }, 'alice\'s sign-in through this page, as "Signed in"');
  await tid('audit-filter-actor').fill('nobody-here');
  await tid('audit-apply').click();
  await eventually(async () => /check the actor/i.test(await text(tid('audit-empty'))), 'a hint when nothing matches');
  await tid('audit-clear').click();
  await tid('audit-table').waitFor();
});

step('alice: audit details wrap at phone width and scroll by keyboard', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    const row = tid('audit-row').first();
    await row.locator('summary').click();
    const box = row.getByTestId('audit-details');
    await box.waitFor();
    assert.equal(await box.getAttribute('tabindex'), '0', 'the details box takes the keyboard focus (it may scroll)');
    assert.match(await text(box), /hash/);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page stays 390 px wide with details open, got ${width}`);
    await shot('audit-phone-details.png');
    await axeCheck('audit log with details open');
    await row.locator('summary').click();
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

step('alice: the header stays in view after navigating', async () => {
  await page.setViewportSize({ width: 390, height: 500 });
  try {
    await openMenu();
    await tid('nav-tokens').click();
    await tid('tokens-view').waitFor();
    // Scrolled down, the next screen opens (a link, the back button): its top and the header show.
    await page.evaluate(() => { window.scrollTo(0, document.body.scrollHeight); location.hash = '#/audit'; });
    await tid('audit-table').waitFor();
    await eventually(async () => (await page.evaluate(() => document.activeElement?.id)) === 'main', 'the focus on the page');
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'scrolled to the top');
    assert.ok((await tid('brand').boundingBox()).y >= 0, 'the header is in view');
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

step('alice: edit description and timeout', async () => {
  await openMenu();
  await tid('nav-tokens').click();
  const row = tokenRow('CI pipeline');
  await row.waitFor();
  await row.getByTestId('edit-token').click();
  await eventually(() => dialogOpen('token-dialog'), 'the edit dialog to open');
  assert.equal(await text(tid('token-dialog-title')), 'Edit token');
  assert.equal(await tid('description-input').inputValue(), 'CI pipeline');
  assert.equal(await tid('timeout-input').inputValue(), '', 'empty: keep the current expiry');
  assert.match(await text(tid('expiry-preview')), /^Now expires on /);
  assert.equal(await page.locator('#token-unit').count(), 0, 'no single-option unit drop-down');
  await tid('description-input').fill('CI pipeline (prod)');
  assert.equal(await text(tid('description-count')), '18 / 200', 'the counter counts as the server does');
  await tid('description-input').fill('  CI pipeline (prod) 🚀 ');
  assert.equal(await text(tid('description-count')), '20 / 200', 'code points after trimming');
  await tid('description-input').fill('CI pipeline (prod)');
  await tid('timeout-input').fill('1e2');
  await tid('token-submit').click();
  await eventually(async () => /whole number/i.test(await text(tid('timeout-error'))), 'integers only');
  await tid('timeout-input').fill('400');
  await tid('token-submit').click();
  await eventually(async () => /at most \d+ days from today/i.test(await text(tid('timeout-error'))), 'the 365-day limit explained');
  await tid('preset-90').click();
  assert.equal(await tid('timeout-input').inputValue(), '90');
  await tid('timeout-input').fill('60');
  assert.match(await text(tid('expiry-preview')), /^Expires on \w{3}, \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M (GMT[+-]\d|CES?T)\.$/, 'the resulting date with its zone');
  await shot('edit-dialog.png');
  await axeCheck('edit token dialog');
  await tid('token-submit').click();
  await eventually(async () => !(await dialogOpen('token-dialog')), 'the edit dialog to close');
  const edited = tokenRow('CI pipeline (prod)');
  await edited.waitFor();
  assert.equal(await edited.getAttribute('data-token-id'), tokenId);
  const { created, expires } = await rowTimes(edited);
  assert.equal(expires - created, 60 * DAY_MS, 'extended by 60 days from today (the token was created today)');
  await expectToast(/^Saved “CI pipeline \(prod\)”/);
});

step('alice: delete with No (row stays), Escape (row stays), then Yes (row gone)', async () => {
  const row = tokenRow('CI pipeline (prod)');
  await row.getByTestId('delete-token').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  assert.match(await text(tid('confirm-text')), /CI pipeline \(prod\)/);
  assert.match(await text(tid('confirm-text')), /stop working at once/);
  await shot('delete-confirm.png');
  await axeCheck('delete token confirmation');
  await tid('confirm-no').click();
  await eventually(async () => !(await dialogOpen('confirm-dialog')), 'the confirmation to close on No');
  assert.equal(await row.count(), 1, 'No keeps the row');

  await row.getByTestId('delete-token').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  await page.keyboard.press('Escape');
  await eventually(async () => !(await dialogOpen('confirm-dialog')), 'the confirmation to close on Escape');
  assert.equal(await row.count(), 1, 'Escape keeps the row');

  await row.getByTestId('delete-token').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  await tid('confirm-yes').click();
  await eventually(async () => (await row.count()) === 0, 'the row to go');
  await expectToast(/^Token “CI pipeline \(prod\)” deleted/);
  await tid('tokens-empty').waitFor();
  const r = await pageFetch('GET', `/api/v1/tokens/${encodeURIComponent(tokenId)}`);
  assert.equal(r.status, 404, 'the deleted token is gone on the server too');
  await logout();
});

step('admin: the Users screen lists, adds, edits and deletes users', async () => {
  await login('admin', ADMIN_PW);
  await openMenu();
  await tid('nav-users').click();
  await tid('users-table').waitFor();
  const userRow = (name) => page.locator(`[data-testid="user-row"][data-username="${name}"]`);
  await userRow('alice').waitFor();
  await axeCheck('users');
  await checkNames('users');
  assert.equal(await userRow('alice').getByTestId('revoke-user-tokens').getAttribute('aria-label'), 'Revoke tokens of alice');
  assert.deepEqual((await userRow('alice').getByTestId('user-groups').locator('.badge').allTextContents()).sort(), ['api-tokens', 'auditors']);
  assert.match(await text(userRow('bob').getByTestId('user-groups')), /no groups/);

  await tid('add-user').click();
  await eventually(() => dialogOpen('user-dialog'), 'the add-user dialog');
  // The rules are shown up front; every field error at once.
  assert.match(await text(page.locator('#user-password-hint')), /At least 12 characters; not a common password/);
  await tid('user-username-input').fill('');
  await tid('user-password-input').fill('short');
  await tid('user-submit').click();
  await eventually(async () => (await text(tid('user-username-error'))).length > 0, 'the username error');
  assert.match(await text(tid('user-password-error')), /At least 12 characters/, 'the password error at the same time');
  await axeCheck('add user dialog with errors');
  // No group: said once, a second press adds anyway.
  await tid('user-username-input').fill('erin');
  await tid('user-password-input').fill('erin-Secret-2026!');
  await tid('user-submit').click();
  await eventually(async () => /No group chosen/.test(await text(tid('user-groups-error'))), 'the no-group warning');
  assert.ok(await dialogOpen('user-dialog'), 'not added silently');
  await tid('user-submit').click();
  await userRow('erin').waitFor();
  await expectToast(/^Added “erin”/);

  await tid('add-user').click();
  await eventually(() => dialogOpen('user-dialog'), 'the add-user dialog');
  await tid('user-username-input').fill('carol');
  await tid('user-password-input').fill(PW.carol);
  await tid('group-api-tokens').check();
  await tid('user-submit').click();
  await userRow('carol').waitFor();
  assert.deepEqual(await userRow('carol').getByTestId('user-groups').locator('.badge').allTextContents(), ['api-tokens']);
  await expectToast(/^Added “carol”/);

  await userRow('carol').getByTestId('edit-user').click();
  await eventually(() => dialogOpen('user-dialog'), 'the edit-user dialog');
  assert.ok(await tid('group-api-tokens').isChecked());
  await tid('group-auditors').check();
  await tid('user-submit').click();
  await eventually(async () => (await userRow('carol').getByTestId('user-groups').locator('.badge').allTextContents()).sort().join() === 'api-tokens,auditors',
    'carol to be in api-tokens and auditors');
  await expectToast(/^Saved “carol”/);
  await shot('users.png');

  await userRow('carol').getByTestId('delete-user').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  // True to what the server does: the user's tokens go with them.
  assert.match(await text(tid('confirm-text')), /deleted with them|no live API tokens/);
  assert.doesNotMatch(await text(tid('confirm-text')), /not deleted/);
  await axeCheck('delete user confirmation');
  await tid('confirm-yes').click();
  await eventually(async () => (await userRow('carol').count()) === 0, 'carol to be gone');
  await expectToast(/^Deleted “carol”/);
  await logout();
});

let revokedIds = [];
step('alice: a token expiring within 7 days is marked Expires soon, a 30-day one is not', async () => {
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  await addToken('Weekly report', 3);
  await addToken('Monthly sync', 30);
  const soon = tokenRow('Weekly report');
  const later = tokenRow('Monthly sync');
  assert.equal(await text(soon.getByTestId('expiring-badge')), 'Expires soon');
  assert.equal(await soon.getByTestId('expired-badge').count(), 0);
  assert.equal(await later.getByTestId('expiring-badge').count(), 0, 'a 30-day token does not expire soon');
  assert.equal(await later.getByTestId('expired-badge').count(), 0);
  assert.equal(await text(later.getByTestId('token-last-used')), 'Never used');
  await page.reload(); // computed from the list, so it survives a reload
  await soon.getByTestId('expiring-badge').waitFor();
  assert.equal(await later.getByTestId('expiring-badge').count(), 0);
  revokedIds = [await soon.getAttribute('data-token-id'), await later.getAttribute('data-token-id')];
  await shot('tokens-expiring.png');
  await logout();
});

step('admin: revokes all tokens of a user with a reason (required), recorded in the audit log', async () => {
  const reason = `Laptop stolen ${randomBytes(4).toString('hex')}`;
  // A fresh sign-in per look: revoking a user's tokens may also end her sessions (issue 12).
  const listAlice = async () => (await http('GET', '/api/v1/tokens', { cookie: await apiLogin('alice', PW.alice) })).json?.tokens || [];
  assert.equal((await listAlice()).length, 2, 'alice has two tokens before');

  await login('admin', ADMIN_PW);
  await openMenu();
  await tid('nav-users').click();
  await tid('users-table').waitFor();
  const button = page.locator('[data-testid="user-row"][data-username="alice"]').getByTestId('revoke-user-tokens');
  await button.click();
  await eventually(() => dialogOpen('revoke-dialog'), 'the revoke dialog');
  assert.match(await text(tid('revoke-dialog')), /alice/);
  await tid('revoke-cancel').click(); // No: nothing happens
  await eventually(async () => !(await dialogOpen('revoke-dialog')), 'the revoke dialog to close on No');
  assert.equal((await listAlice()).length, 2, 'No revokes nothing');

  await button.click();
  await eventually(() => dialogOpen('revoke-dialog'), 'the revoke dialog');
  await tid('revoke-reason-input').fill('   ');
  await tid('revoke-submit').click();
  await eventually(async () => (await text(tid('revoke-reason-error'))).length > 0, 'the reason-required error');
  assert.equal(await tid('revoke-reason-input').getAttribute('aria-invalid'), 'true');
  assert.ok(await dialogOpen('revoke-dialog'), 'the dialog stays open without a reason');
  assert.equal((await listAlice()).length, 2, 'nothing revoked without a reason');

  await tid('revoke-reason-input').fill(reason);
  await shot('revoke-dialog.png');
  await axeCheck('revoke dialog');
  await tid('revoke-submit').click();
  await eventually(async () => !(await dialogOpen('revoke-dialog')), 'the revoke dialog to close');
  await expectToast(/^Revoked 2 tokens of alice\.$/);
  await shot('users-revoked.png');
  assert.deepEqual(await listAlice(), [], 'alice has no tokens left');

  const audit = await http('GET', '/api/v1/audit?type=TokenDeleted', { cookie: await apiLogin('alice', PW.alice) }); // alice is an auditor
  assert.equal(audit.status, 200, JSON.stringify(audit.json));
  const events = audit.json?.events || [];
  for (const id of revokedIds) {
    const e = events.find((x) => x.stream === id);
    assert.ok(e, `a TokenDeleted event for ${id}`);
    assert.equal(e.type, 'TokenDeleted');
    assert.equal(e.data?.reason, reason, 'the reason is in data.reason');
    assert.equal(e.actor?.user, 'admin', 'revoked by the admin');
  }
  await logout();
});

step('expired token: after two days (faketime) it is marked Expired and cannot be edited', async () => {
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  await addToken('Short-lived', 1);
  const id = await tokenRow('Short-lived').getAttribute('data-token-id');
  assert.equal(await tokenRow('Short-lived').getByTestId('expired-badge').count(), 0);

  await stopServer(server);
  server = null;
  server = await startServer({ faketime: '+2d' });
  base = server.url;

  await page.goto(`${base}/#/tokens`);
  await tid('login-form').waitFor(); // sessions live in memory: the restart ended it
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  const row = tokenRow('Short-lived');
  await row.waitFor();
  assert.equal(await text(row.getByTestId('expired-badge')), 'Expired');
  // In its own section, without Edit; Show and Delete remain.
  assert.equal(await tid('expired-table').locator(`[data-token-id="${id}"]`).count(), 1, 'under Expired');
  assert.equal(await tid('tokens-table').locator(`[data-token-id="${id}"]`).count(), 0, 'not among the live tokens');
  assert.equal(await row.getByTestId('edit-token').count(), 0, 'no Edit for an expired token');
  await axeCheck('tokens with an expired one');

  const r = await pageFetch('PATCH', `/api/v1/tokens/${encodeURIComponent(id)}`, { description: 'still here?' });
  assert.equal(r.status, 409);
  assert.equal(r.json?.error?.code, 'token_expired');

  await row.getByTestId('show-toggle').click(); // revealing is allowed on expired tokens
  await eventually(async () => /^tlk_/.test(await text(row.getByTestId('token-code'))), 'the code of the expired token');
  await row.getByTestId('delete-token').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  assert.match(await text(tid('confirm-text')), /already expired/);
  assert.doesNotMatch(await text(tid('confirm-text')), /stop working at once/);
  await tid('confirm-yes').click();
  await eventually(async () => (await row.count()) === 0, 'the expired token to be deleted');
  await logout();
});

step(`reveal with recent login: after the window, "Confirm it's you" asks for the password again`, async (t) => {
  assert.ok(FAKETIME_LIB, 'libfaketime.so.1 not found (install the faketime package or set FAKETIME_LIB)');
  const dir = await mkdtemp(path.join(tmpdir(), 'tokenledger-ui-reauth-'));
  const clock = path.join(dir, 'clock');
  const setClock = (offset) => writeFile(clock, `${offset}\n`);
  const mainBase = base;
  let failure = null;
  try {
    await setClock('+0');
    reauthServer = await startServer({ data: path.join(dir, 'data'), clockFile: clock, extraArgs: ['--reveal-reauth-minutes', '5'] });
    base = reauthServer.url;
    const admin = await apiLogin('admin', ADMIN_PW);
    const r = await http('POST', '/api/v1/users', { cookie: admin, body: { username: 'dave', password: PW.dave, groups: ['api-tokens'] } });
    assert.equal(r.status, 201, `creating dave: ${JSON.stringify(r.json)}`);

    await login('dave', PW.dave);
    await tid('tokens-view').waitFor();
    await addToken('Needs a recent login', 30);
    const row = tokenRow('Needs a recent login');
    const toggle = row.getByTestId('show-toggle');
    const code = row.getByTestId('token-code');
    await toggle.click(); // the password was just typed: shown at once
    await eventually(async () => (await text(toggle)) === 'Hide', 'the button to become Hide');
    assert.match(await text(code), /^tlk_/);
    assert.equal(await dialogOpen('reauth-dialog'), false, 'no password prompt right after logging in');
    await toggle.click();
    await eventually(async () => (await text(toggle)) === 'Show', 'the code to be hidden again');

    await setClock('+10m'); // the server's clock: the login is now older than the 5-minute window
    await toggle.click();
    await eventually(() => dialogOpen('reauth-dialog'), 'the "Confirm it\'s you" dialog');
    assert.equal(await text(tid('reauth-title')), "Confirm it's you");
    await eventually(async () => page.evaluate(() => document.activeElement?.dataset.testid === 'reauth-password'), 'the focus in the password field');
    assert.equal(await code.count(), 0, 'nothing shown while the dialog is open');
    await axeCheck('confirm it\'s you');

    await tid('reauth-cancel').click(); // Cancel: nothing is shown
    await eventually(async () => !(await dialogOpen('reauth-dialog')), 'the dialog to close on Cancel');
    assert.equal(await text(toggle), 'Show');
    assert.equal(await code.count(), 0, 'Cancel shows nothing');
    assert.ok(!(await tid('banner').isVisible()) || !/could not show/i.test(await text(tid('banner-text'))), 'Cancel is not an error');

    await toggle.click();
    await eventually(() => dialogOpen('reauth-dialog'), 'the dialog again');
    assert.equal(await tid('reauth-password').inputValue(), '', 'the password field starts empty');
    await tid('reauth-password').fill('not-his-password');
    await tid('reauth-submit').click();
    await eventually(async () => /wrong password/i.test(await text(tid('reauth-error'))), 'the wrong-password error in the dialog');
    assert.ok(await dialogOpen('reauth-dialog'), 'the dialog stays open after a wrong password');
    assert.equal(await tid('reauth-password').getAttribute('aria-invalid'), 'true');
    assert.equal(await code.count(), 0, 'still hidden after a wrong password');
    await shot('reauth-dialog.png');

    await tid('reauth-password').fill(PW.dave);
    await tid('reauth-submit').click(); // accepted: the dialog closes and the reveal is retried by itself
    await eventually(async () => !(await dialogOpen('reauth-dialog')), 'the dialog to close after the right password');
    await eventually(async () => (await text(toggle)) === 'Hide', 'the button to become Hide');
    assert.match(await text(code), /^tlk_/, 'the code is shown after confirming');
    assert.equal(await tid('reauth-password').inputValue(), '', 'the password is not kept in the page');
    await logout();
  } catch (e) {
    failure = e;
  } finally {
    base = mainBase;
    const s = reauthServer;
    reauthServer = null;
    if (failure && s) for (const line of ['last output of the reauth server:', ...s.log.slice(-40)]) t.diagnostic(line);
    await stopServer(s).catch((e) => { failure ||= e; }); // bounded: SIGTERM, up to 15 s, then SIGKILL
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
  if (failure) throw failure;
});

step('alice: same descriptions told apart, search, sort, presets, live date, history link', async () => {
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  await addToken('Deploy bot', 30);
  await addToken('Deploy bot', 7);
  await addToken('Backup job', 90);
  const twins = tokenRow('Deploy bot');
  assert.equal(await twins.count(), 2);
  const ids = await Promise.all((await twins.all()).map((r) => r.getAttribute('data-token-id')));
  const shorts = await twins.getByTestId('token-short-id').allTextContents();
  assert.equal(shorts.length, 2, 'both twins show a short id');
  assert.notEqual(shorts[0], shorts[1], 'the short ids differ');
  for (const [i, sid] of shorts.entries()) assert.ok(ids.some((full) => full.endsWith(sid.trim().replace('…', ''))), `${sid} is the end of an id (${i})`);
  assert.equal(await tokenRow('Backup job').getByTestId('token-short-id').count(), 0, 'a unique description has no short id');
  const deleteNames = await twins.getByTestId('delete-token').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label')));
  assert.notEqual(deleteNames[0], deleteNames[1], 'the two Delete buttons have different names');

  // Sort by expiry: soonest first; by last use; search by description.
  await tid('token-sort').selectOption('expires');
  const order = async () => tid('tokens-table').locator('[data-testid="token-description"]').allTextContents();
  assert.deepEqual(await order(), ['Deploy bot', 'Deploy bot', 'Backup job']);
  await tid('token-search').fill('backup');
  await eventually(async () => (await order()).join() === 'Backup job', 'only Backup job after searching "backup"');
  await tid('token-search').fill('');
  await eventually(async () => (await order()).length === 3, 'all three again');
  await shot('tokens-many.png');
  await axeCheck('tokens with search and twins');

  // Add: presets fill the days and the resulting date shows live.
  await tid('add-token').click();
  await eventually(() => dialogOpen('token-dialog'), 'the add dialog');
  await tid('preset-7').click();
  assert.equal(await tid('timeout-input').inputValue(), '7');
  // The day in the page's time zone (Europe/Berlin), not the test runner's: they differ near midnight.
  const want = await page.evaluate((ms) => new Date(Date.now() + ms).getDate(), 7 * DAY_MS);
  assert.match(await text(tid('expiry-preview')), new RegExp(`^Expires on \\w{3}, \\w{3} ${want}, `));
  await tid('token-cancel').click();

  // History: an auditor's link opens the audit log filtered to the token.
  const backupId = await tokenRow('Backup job').getAttribute('data-token-id');
  await tokenRow('Backup job').getByTestId('token-history').click();
  await tid('audit-table').waitFor();
  assert.equal(await tid('audit-filter-token-id').inputValue(), backupId, 'filtered to the token');
  await eventually(async () => (await tid('audit-type').allTextContents()).join() === 'Token created', 'the one event of the token');
  await logout();

  // An owner who is not an auditor sees the token's own history (/tokens/{id}/history).
  const admin = await apiLogin('admin', ADMIN_PW);
  const r = await http('POST', '/api/v1/users', { cookie: admin, body: { username: 'frank', password: 'frank-Secret-2026!', groups: ['api-tokens'] } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  await login('frank', 'frank-Secret-2026!');
  await tid('tokens-view').waitFor();
  await addToken('Frank script', 30);
  await tokenRow('Frank script').getByTestId('token-history').click();
  await tid('history-view').waitFor();
  await eventually(async () => (await tid('audit-type').allTextContents()).join() === 'Token created', 'the creation in the history');
  assert.equal(await text(tid('audit-token-desc')), 'Frank script');
  await axeCheck('token history');
  await logout();
});

step('alice: times in UTC on request; dark mode follows the system and the menu toggle', async () => {
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  const created = tokenRow('Backup job').getByTestId('token-created');
  assert.doesNotMatch(await text(created), /UTC$/, 'local time by default');
  await openMenu();
  await tid('toggle-utc').click();
  await eventually(async () => /UTC$/.test(await text(created)), 'the time in UTC');
  assert.equal(await tid('toggle-utc').getAttribute('aria-pressed'), 'true');
  await tid('toggle-utc').click();
  await eventually(async () => !/UTC$/.test(await text(created)), 'local time again');
  await page.keyboard.press('Escape');

  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    await page.reload();
    await tid('tokens-view').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'the system\'s dark preference is followed');
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    assert.equal(bg, 'rgb(17, 22, 31)', 'a dark background');
    await shot('tokens-dark.png');
    await axeCheck('tokens (dark)');
    await openMenu();
    assert.equal(await tid('toggle-dark').getAttribute('aria-pressed'), 'true');
    await tid('toggle-dark').click();
    await eventually(async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === 'light', 'the light theme by the toggle');
    await page.keyboard.press('Escape');
    await page.reload();
    await tid('tokens-view').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light', 'the choice is kept');
    await page.evaluate(() => localStorage.removeItem('tokenledger.theme'));
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
  await openMenu();
  await tid('nav-audit').click();
  await tid('audit-table').waitFor();
  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    await page.reload();
    await tid('audit-table').waitFor();
    await axeCheck('audit log (dark)');
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
  await logout();
});

step('the favicon is served', async () => {
  const res = await fetch(`${base}/favicon.ico`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/x-icon');
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 1, 0], 'an ICO file');
  assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.ico');
});

// ---------- steps that need the server parts of issue 12 built by other helpers ----------
// Each one checks that its server part is there and is skipped (saying why) when it is not.

// needs: PATCH /api/v1/me/password and the password rules (helper e)
step('alice: changes her own password from the avatar menu', async (t) => {
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  const probe = await pageFetch('PATCH', '/api/v1/me/password', {});
  if (probe.status === 404 || probe.status === 405) { t.skip('needs PATCH /api/v1/me/password (helper e)'); await logout(); return; }
  await openMenu();
  await tid('nav-password').click();
  await tid('password-view').waitFor();
  assert.match(await text(tid('password-view')), /At least 12 characters; not a common password/, 'the rules up front');
  await axeCheck('change password');
  await tid('pw-submit').click();
  await eventually(async () => (await text(tid('pw-current-error'))).length > 0, 'the current-password error');
  assert.match(await text(tid('pw-new-error')), /At least 12 characters/, 'every error at once');
  await tid('pw-current').fill('not-her-password');
  await tid('pw-new').fill('alice-Newer-Secret-2026!');
  await tid('pw-confirm').fill('alice-Newer-Secret-2026!');
  await tid('pw-submit').click();
  await eventually(async () => (await text(tid('pw-current-error'))).length > 0, 'the wrong current password shown at its field');
  assert.ok(await tid('password-view').isVisible(), 'still signed in after a wrong current password');
  await tid('pw-current').fill(PW.alice);
  await tid('pw-new').fill('unbelievable'); // 12 characters, in the dictionary
  await tid('pw-confirm').fill('unbelievable');
  await tid('pw-submit').click();
  await eventually(async () => (await text(tid('pw-new-error'))).length > 0, 'the server\'s 400 invalid_field shown at New password');
  await shot('change-password.png');
  await tid('pw-new').fill('alice-Newer-Secret-2026!');
  await tid('pw-confirm').fill('alice-Newer-Secret-2026!');
  await tid('pw-submit').click();
  await expectToast(/^Password changed\./);
  await tid('tokens-view').waitFor();
  PW.alice = 'alice-Newer-Secret-2026!';
  await logout();
  await login('alice', PW.alice);
  await logout();
});

// needs: "must_change" on PATCH /api/v1/users/{u} and 403 password_change_required (helper e)
step('frank: after an admin set his password with "must change", only the change-password screen shows', async (t) => {
  const admin = await apiLogin('admin', ADMIN_PW);
  const users = (await http('GET', '/api/v1/users', { cookie: admin })).json?.users || [];
  const me = await apiLogin('frank', 'frank-Secret-2026!');
  const probe = await http('GET', '/api/v1/me', { cookie: me });
  if (!('must_change_password' in (probe.json || {}))) { t.skip('needs must_change_password in GET /api/v1/me (helper e)'); return; }
  assert.ok(users.some((u) => u.username === 'frank'));
  await login('admin', ADMIN_PW);
  await openMenu();
  await tid('nav-users').click();
  const row = page.locator('[data-testid="user-row"][data-username="frank"]');
  await row.getByTestId('edit-user').click();
  await eventually(() => dialogOpen('user-dialog'), 'the edit-user dialog');
  await tid('user-password-input').fill('frank-Temporary-2026!');
  await tid('user-must-change').check();
  await axeCheck('edit user dialog');
  await tid('user-submit').click();
  await expectToast(/^Saved “frank”/);
  await logout();

  await login('frank', 'frank-Temporary-2026!');
  await tid('password-view').waitFor();
  await tid('pw-required').waitFor();
  await checkMenu([]); // no screens but "Change password" until it is done
  await page.goto(`${base}/#/tokens`);
  await tid('password-view').waitFor();
  await shot('must-change.png');
  await tid('pw-current').fill('frank-Temporary-2026!');
  await tid('pw-new').fill('frank-Own-Secret-2026!');
  await tid('pw-confirm').fill('frank-Own-Secret-2026!');
  await tid('pw-submit').click();
  await tid('tokens-view').waitFor();
  await logout();
});

// needs: PATCH /api/v1/users/{u} {"disabled"} and `disabled` in GET /api/v1/users (helper d)
step('admin: disables and enables a user, with a confirmation', async (t) => {
  const admin = await apiLogin('admin', ADMIN_PW);
  const users = (await http('GET', '/api/v1/users', { cookie: admin })).json?.users || [];
  if (!users.every((u) => typeof u.disabled === 'boolean')) { t.skip('needs `disabled` in GET /api/v1/users (helper d)'); return; }
  await login('admin', ADMIN_PW);
  await openMenu();
  await tid('nav-users').click();
  const row = page.locator('[data-testid="user-row"][data-username="erin"]');
  await row.getByTestId('disable-user').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  assert.match(await text(tid('confirm-text')), /cannot sign in.*sessions end.*tokens stop working/);
  await axeCheck('disable user confirmation');
  await tid('confirm-yes').click();
  await expectToast(/^Disabled “erin”/);
  await row.getByTestId('user-disabled').waitFor();
  await shot('users-disabled.png');
  await row.getByTestId('enable-user').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  await tid('confirm-yes').click();
  await expectToast(/^Enabled “erin”/);
  await row.getByTestId('disable-user').waitFor();
  await logout();
});

// needs: live_tokens in GET /api/v1/users (helper d)
step('admin: the user list counts live tokens and the delete confirmation names them', async (t) => {
  const admin = await apiLogin('admin', ADMIN_PW);
  const users = (await http('GET', '/api/v1/users', { cookie: admin })).json?.users || [];
  if (!users.every((u) => Number.isInteger(u.live_tokens))) { t.skip('needs live_tokens in GET /api/v1/users (helper d)'); return; }
  await login('admin', ADMIN_PW);
  await openMenu();
  await tid('nav-users').click();
  const row = page.locator('[data-testid="user-row"][data-username="frank"]');
  assert.equal(await text(row.getByTestId('user-live-tokens')), '1 live token');
  await row.getByTestId('delete-user').click();
  await eventually(() => dialogOpen('confirm-dialog'), 'the confirmation');
  assert.match(await text(tid('confirm-text')), /Their 1 live API token is deleted with them/);
  await tid('confirm-no').click();
  // Out of api-tokens, his tokens exist but do not validate: the list says so (issue 12, case 3).
  const frank = users.find((u) => u.username === 'frank');
  const without = frank.groups.filter((g) => g !== 'api-tokens');
  assert.equal((await http('PATCH', '/api/v1/users/frank', { cookie: admin, body: { groups: without } })).status, 200);
  await page.reload();
  await eventually(async () => (await text(page.locator('[data-testid="user-row"][data-username="frank"]').getByTestId('user-live-tokens'))) === '1 live token (inactive)', 'the inactive tokens marked');
  assert.equal((await http('PATCH', '/api/v1/users/frank', { cookie: admin, body: { groups: frank.groups } })).status, 200);
  await logout();
});

// needs: token_description in audit events (helper f)
step('alice: reveal and delete rows of the audit log name the token by its description', async (t) => {
  await login('alice', PW.alice);
  await tid('tokens-view').waitFor();
  const row = tokenRow('Backup job');
  await row.getByTestId('show-toggle').click();
  await row.getByTestId('token-code').waitFor();
  const r = await pageFetch('GET', '/api/v1/audit?type=TokenRevealed');
  if (!(r.json?.events || []).some((e) => 'token_description' in e)) { t.skip('needs token_description in audit events (helper f)'); await logout(); return; }
  await openMenu();
  await tid('nav-audit').click();
  await tid('audit-filter-type').selectOption({ label: 'Code shown' });
  await tid('audit-apply').click();
  await eventually(async () => (await tid('audit-token-desc').allTextContents()).includes('Backup job'), '"Backup job" on a Code shown row');
  await logout();
});

step('no script errors and no CSP violations on any page', async () => {
  assert.deepEqual(pageErrors, []);
});
