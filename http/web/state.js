// State shared by the screens: who is logged in, and the data of the current user's screens.

export const state = {
  me: null,              // GET /api/v1/me
  returnTo: null,        // route to open after logging in
  loginNotice: '',
  tokens: [],
  revealed: new Map(),   // token id -> code, only while the tokens screen is shown
  audit: null,           // filters, order, loaded events and page of the audit screen
};
export function resetUserState() {
  state.tokens = [];
  state.revealed.clear();
  state.audit = { filters: {}, order: 'desc', events: [], page: 0, truncated: false, total: 0 };
}
resetUserState();

// Each render of a route gets a new number; a screen whose number is no longer `renderGen` drops late answers.
export let renderGen = 0;
export function nextRender() { return ++renderGen; }
