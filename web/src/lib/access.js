// Reviewer access links: a link such as /dandiset/000123?access=<token>
// opens an embargoed dandiset to its holder. The token is taken off the
// address at once (it would otherwise sit in the history, in bookmarks and
// in the Referer of every request) and kept for this tab's session; every
// API call sends it as X-Dandi-Access, and links the browser follows by
// itself (downloads, raw metadata) carry it as ?access=.
const KEY = 'dandi-access-link';

export function accessToken() {
  try { return sessionStorage.getItem(KEY) || ''; } catch { return ''; }
}

export function forgetAccessToken() {
  try { sessionStorage.removeItem(KEY); } catch { /* private mode */ }
}

// At start-up: the token kept.
export function captureAccessToken() {
  const t = new URL(window.location.href).searchParams.get('access');
  if (!t) return;
  try { sessionStorage.setItem(KEY, t); } catch { /* private mode: this page only */ }
}

// Once the router has taken the first address: the same page without the
// token in it.
export function dropAccessQuery(router) {
  const r = router.currentRoute.value;
  if (r.query.access === undefined) return;
  const query = { ...r.query };
  delete query.access;
  router.replace({ path: r.path, query, hash: r.hash });
}

export function accessHeader() {
  const t = accessToken();
  return t ? { 'X-Dandi-Access': t } : {};
}

// u with ?access= when a token is kept (u relative or absolute).
export function withAccess(u) {
  const t = accessToken();
  if (!t) return u;
  return `${u}${u.includes('?') ? '&' : '?'}access=${encodeURIComponent(t)}`;
}
