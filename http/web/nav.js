// Hash routes (#/login, #/tokens, #/audit, #/users, #/home) and showing a screen in <main>.
// The router itself lives in app.js; screens reach it through rerender() and go().
import { $, h } from './dom.js';

let router = async () => {};
export function setRouter(fn) { router = fn; }
// Render the current route again.
export function rerender() { return router(); }

export function currentRoute() { const m = location.hash.match(/^#\/([\w-]*)/); return m ? m[1] : ''; }
// What follows the route: "#/history/tok_1" -> "tok_1".
export function routeArg() { const m = location.hash.match(/^#\/[\w-]*\/(.+)$/); return m ? decodeURIComponent(m[1]) : ''; }
export function go(route) { if (currentRoute() === route) router(); else location.hash = `#/${route}`; }
export function defaultRoute(me) {
  if (me.can_manage_tokens) return 'tokens';
  if (me.can_audit) return 'audit';
  if (me.can_admin) return 'users';
  return 'home';
}

export function setView(title, testid, ...kids) {
  const main = $('#main');
  main.replaceChildren(h('section', { class: `view view-${testid}`, 'data-testid': testid }, ...kids));
  document.title = `${title} · tokenledger`;
}
