// Where the archive's API is. The app may be served from another origin
// than the API (its own domain, a CDN): the API base is read once at
// start-up from, in this order,
//  1. window.DANDI_CONFIG, set by /config.js next to index.html, which a
//     deployment writes (or its web server answers) without rebuilding:
//       window.DANDI_CONFIG = { apiRoot: 'https://api.example.org/api/' };
//     optional: oauthApiRoot (default: <apiRoot>/../oauth/), oauthClientId;
//  2. the build's environment, under the original app's names:
//     VITE_APP_DANDI_API_ROOT, VITE_APP_OAUTH_API_ROOT, VITE_APP_OAUTH_CLIENT_ID;
//  3. the app's own origin: /api/ and /oauth/.
// On the app's own origin the roots stay paths (/api/); elsewhere they are
// absolute URLs, so every fetch and every link goes to the API's origin.
export const DEFAULT_CLIENT_ID = 'Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl';

const given = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const slashed = (u) => (u.endsWith('/') ? u : `${u}/`);

// runtime: window.DANDI_CONFIG; env: import.meta.env; origin: the page's.
export function resolveConfig(runtime, env, origin) {
  const r = runtime && typeof runtime === 'object' ? runtime : {};
  const e = env || {};
  const abs = (u) => new URL(slashed(u), origin);
  const short = (u) => (u.origin === origin ? u.pathname : u.href);
  const api = abs(given(r.apiRoot) || given(e.VITE_APP_DANDI_API_ROOT) || '/api/');
  // The OAuth provider sits next to the API (/oauth/ beside /api/) unless
  // the same source that named the API names it too.
  const oauthGiven = given(r.oauthApiRoot) || (given(r.apiRoot) ? null : given(e.VITE_APP_OAUTH_API_ROOT));
  const oauth = oauthGiven ? abs(oauthGiven) : new URL('../oauth/', api);
  return {
    apiRoot: short(api),
    oauthApiRoot: short(oauth),
    oauthClientId: given(r.oauthClientId) || given(e.VITE_APP_OAUTH_CLIENT_ID) || DEFAULT_CLIENT_ID,
    // Where the server-rendered pages (/dashboard/, /accounts/) are.
    serverRoot: short(new URL('../', api)),
  };
}

export const config = resolveConfig(
  typeof window !== 'undefined' ? window.DANDI_CONFIG : null,
  import.meta.env,
  typeof window !== 'undefined' ? window.location.origin : 'http://localhost',
);
