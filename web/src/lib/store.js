// Application-wide state: server info, the Dandiset schema, the user and
// the global message line. A plain reactive object; no store library.
import { reactive } from 'vue';
import { get, apiUrl, errorText, ApiError } from './api.js';
import { authHeader, loginMethod, logout as authLogout, setApiKey } from './auth.js';
import { derefSchema } from './schema.js';

export const store = reactive({
  info: null,
  infoError: null,
  user: null,
  userLoaded: false,
  schema: null,
  schemaState: 'idle', // idle | loading | ready | missing
  schemaError: '',
  snackbar: null, // { text, kind: 'error'|'info' }
});

// link: an optional { to, label } shown as a button in the message.
export function notify(text, kind = 'info', link = null) {
  store.snackbar = { text, kind, link, at: Date.now() };
}

export function reportError(e, what = '') {
  // eslint-disable-next-line no-console
  console.error(e);
  const detail = e instanceof ApiError ? errorText(e.body) || `HTTP ${e.status}` : e && e.message;
  const quote = e instanceof ApiError && e.status >= 500 && e.requestId ? ` (request id ${e.requestId})` : '';
  notify(`${what ? what + ': ' : ''}${detail || 'Sorry, something went wrong. Please try again later.'}${quote}`, 'error');
}

let infoPromise = null;
export function loadInfo() {
  if (!infoPromise) {
    infoPromise = get('info/', null, { auth: false }).then(
      (i) => { store.info = i; return i; },
      (e) => { store.infoError = e; infoPromise = null; throw e; },
    );
  }
  return infoPromise;
}

export const instanceName = () => (store.info && store.info.instance_config && store.info.instance_config.instance_name) || 'DANDI';

// The Dandiset JSON schema from info.schema_url. The archive may not serve
// it yet: then schemaState is 'missing' and the editor falls back to JSON.
let schemaPromise = null;
export function loadSchema() {
  if (!schemaPromise) {
    store.schemaState = 'loading';
    schemaPromise = (async () => {
      try {
        const info = await loadInfo();
        if (!info.schema_url) throw new Error('the server names no schema_url');
        const res = await fetch(info.schema_url, { headers: { Accept: 'application/json' } });
        if (!res.ok) throw new Error(`${info.schema_url} answered ${res.status}`);
        const raw = await res.json();
        if (!raw || typeof raw !== 'object' || !raw.properties) throw new Error('the schema has no properties');
        store.schema = derefSchema(raw);
        store.schemaState = 'ready';
      } catch (e) {
        store.schema = null;
        store.schemaState = 'missing';
        store.schemaError = e.message || String(e);
      }
      return store.schema;
    })();
  }
  return schemaPromise;
}

export async function loadUser() {
  if (!loginMethod()) {
    store.user = null;
    store.userLoaded = true;
    return null;
  }
  try {
    const u = await get('users/me/');
    store.user = { ...u, approved: u.status === 'APPROVED' || u.admin === true };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      await authLogout();
      store.user = null;
    } else {
      throw e;
    }
  } finally {
    store.userLoaded = true;
  }
  return store.user;
}

// Logs in with an API key: keeps it only if /api/users/me/ accepts it.
export async function loginWithApiKey(key) {
  const k = (key || '').trim();
  if (!/^\S+$/.test(k)) throw new Error('Enter an API key.');
  const res = await fetch(apiUrl('users/me/'), { headers: { Accept: 'application/json', Authorization: `token ${k}` } });
  if (res.status === 401 || res.status === 403) throw new Error('The server did not accept this API key.');
  if (!res.ok) throw new Error(`The server answered ${res.status}.`);
  await authLogout();
  setApiKey(k);
  return loadUser();
}

export async function logout() {
  await authLogout();
  store.user = null;
}

export const isLoggedIn = () => !!store.user;
export { authHeader };
