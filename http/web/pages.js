// Screens without data of their own: the start page of a user in no group, "group needed" and "not found".
import { h } from './dom.js';
import { describeError } from './api.js';
import { rerender, setView } from './nav.js';
import { showBanner } from './notify.js';
import { loadMe } from './session.js';
import { state } from './state.js';

export function renderHome() {
  setView('Welcome', 'home-view', h('div', { class: 'card' },
    h('h1', { text: `Welcome, ${state.me.user}` }),
    h('p', { text: 'Your account is not in any group yet, so there is nothing to manage here.' }),
    h('p', {}, 'Ask an administrator to add you to ', h('code', { text: 'api-tokens' }), ' (to create API tokens) or ',
      h('code', { text: 'auditors' }), ' (to read the audit log).')));
}

export function renderNoGroup(label, group, what) {
  setView(`${label} group needed`, 'no-group', h('div', { class: 'card notice-card', 'data-group': group },
    h('h1', { text: `You need to be in the ${label} group` }),
    h('p', {}, 'Your account (', h('strong', { text: state.me.user }), ') is not a member of the ', h('code', { text: group }),
      ` group, so you cannot ${what}. Ask an administrator to add you to it.`),
    h('p', { class: 'form-buttons' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'recheck', onclick: async () => {
        try { await loadMe(); } catch (e) { showBanner(describeError(e)); }
        if (state.me) rerender();
      } }, 'Check again'),
      h('a', { href: '#/', class: 'button-link' }, 'Go to the start page'))));
}

export function renderNotFound() {
  setView('Not found', 'not-found', h('h1', { text: 'Page not found' }),
    h('p', {}, 'There is no page here. ', h('a', { href: '#/' }, 'Go to the start page.')));
}
