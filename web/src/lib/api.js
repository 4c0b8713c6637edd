// A small fetch wrapper for the archive's REST API (/api/ on this origin,
// or wherever config.js says). Every call sends the stored credentials;
// errors become ApiError with the status and the parsed body so views can
// show the server's message.
import { authHeader } from './auth.js';
import { accessHeader, forgetAccessToken, withAccess } from './access.js';
import { config } from './config.js';

// '/api/' on the app's origin, else an absolute URL ending in '/'.
export const API_ROOT = config.apiRoot;

export class ApiError extends Error {
  constructor(status, body, url, requestId = null) {
    super(`${status} from ${url}: ${errorText(body) || 'request failed'}`);
    this.status = status;
    this.body = body;
    this.url = url;
    // The archive's X-Request-Id: a server error's message shows it, for
    // the user to quote to the operators (who find it in the logs).
    this.requestId = requestId;
  }
}

// The server's error bodies come in several shapes (see api.md 1.4): a bare
// string, a list of strings, {detail}, or {field: [messages]}.
export function errorText(body) {
  if (body == null || body === '') return '';
  if (typeof body === 'string') return body;
  if (Array.isArray(body)) return body.map(errorText).filter(Boolean).join('; ');
  if (typeof body === 'object') {
    if (typeof body.detail === 'string') return body.detail;
    return Object.entries(body)
      .map(([k, v]) => (k === 'non_field_errors' ? errorText(v) : `${k}: ${errorText(v)}`))
      .join('; ');
  }
  return String(body);
}

// The URL of an API path ('dandisets/' under API_ROOT, or '/api/...' on the
// API's origin): a path when the API is on this origin, else absolute.
export function apiUrl(path, query) {
  const base = new URL(API_ROOT, window.location.origin);
  const url = new URL(path.startsWith('/') ? path : API_ROOT + path, base);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === '') continue;
    // Arrays become repeated keys (?file_type=a&file_type=b), as DRF reads them.
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, String(x)));
    else url.searchParams.set(k, String(v));
  }
  return url.origin === window.location.origin ? url.pathname + url.search : url.href;
}

// An absolute URL of what apiUrl gives, for links copied elsewhere.
export const absoluteUrl = (u) => new URL(u, window.location.origin).href;

// A server-rendered page of the archive (e.g. 'dashboard/'), on the API's origin.
export const serverPageUrl = (path) => config.serverRoot + path;

export async function api(path, { method = 'GET', query, body, headers = {}, auth = true } = {}) {
  const url = apiUrl(path, query);
  const h = { Accept: 'application/json', ...headers };
  if (auth) Object.assign(h, authHeader(), accessHeader());
  const init = { method, headers: h };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let data = text;
  if (text && (res.headers.get('content-type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { /* keep the text */ }
  }
  // A revoked or expired access link: forgotten, and the call made again
  // as whoever else is asking.
  if (res.status === 401 && h['X-Dandi-Access'] && data && data.detail === 'Invalid or expired access link.') {
    forgetAccessToken();
    return api(path, { method, query, body, headers, auth });
  }
  if (!res.ok) throw new ApiError(res.status, data, url, res.headers.get('X-Request-Id'));
  return text === '' ? null : data;
}

export const get = (p, query, o) => api(p, { ...o, query });
export const post = (p, body, o) => api(p, { ...o, method: 'POST', body });
export const put = (p, body, o) => api(p, { ...o, method: 'PUT', body });
export const del = (p, o) => api(p, { ...o, method: 'DELETE' });

// Links the browser follows itself (downloads, raw JSON).
// (With an access link's token: access.js.)
export const assetDownloadUrl = (uuid) => withAccess(`${API_ROOT}assets/${uuid}/download/`);
export const assetInlineUrl = (uuid) => withAccess(`${API_ROOT}assets/${uuid}/download/?content_disposition=inline`);
export const assetMetadataUrl = (id, v, uuid) => withAccess(`${API_ROOT}dandisets/${id}/versions/${v}/assets/${uuid}/`);
export const manifestUrl = (id, v) => withAccess(`${API_ROOT}dandisets/${id}/versions/${v}/assets/`);
