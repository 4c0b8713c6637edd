// Log-in state. Two ways in:
//  * OAuth2 authorization code + PKCE (S256) against the archive's /oauth/
//    provider; the token JSON is kept in localStorage and sent as
//    "Authorization: Bearer <access_token>".
//  * An API key pasted by the user, kept in localStorage and sent as
//    "Authorization: token <key>" (what dandi-cli does).
// The provider is the archive's, which may be on another origin than this
// app (config.js); the redirect URI is always this app's origin.
import { config } from './config.js';

export const CLIENT_ID = config.oauthClientId;
export const OAUTH_ROOT = config.oauthApiRoot;
const TOKEN_KEY = `oauth-token-${CLIENT_ID}`;
const PENDING_KEY = `oauth-pending-${CLIENT_ID}`;
const APIKEY_KEY = 'dandi-api-key';

function readJson(key) {
  try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch { return null; }
}

export function authHeader() {
  const key = localStorage.getItem(APIKEY_KEY);
  if (key) return { Authorization: `token ${key}` };
  const tok = readJson(TOKEN_KEY);
  if (tok && tok.access_token) return { Authorization: `${tok.token_type || 'Bearer'} ${tok.access_token}` };
  return {};
}

export function loginMethod() {
  if (localStorage.getItem(APIKEY_KEY)) return 'apikey';
  if (readJson(TOKEN_KEY)) return 'oauth';
  return null;
}

export function setApiKey(key) {
  localStorage.setItem(APIKEY_KEY, key.trim());
}

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function randomString(n = 48) {
  const a = new Uint8Array(n);
  crypto.getRandomValues(a);
  return b64url(a);
}

export async function pkceChallenge(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

export function redirectUri() {
  return `${window.location.origin}/`;
}

// Starts the OAuth flow: remembers state, verifier and where to come back to.
export async function startOAuthLogin(returnTo = '/') {
  if (!window.isSecureContext || !crypto.subtle) throw new Error('Logging in needs a secure (https or localhost) page.');
  const verifier = randomString(48);
  const state = randomString(24);
  const challenge = await pkceChallenge(verifier);
  localStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, returnTo }));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  window.location.assign(`${OAUTH_ROOT}authorize/?${q}`);
}

async function tokenRequest(params) {
  const res = await fetch(`${OAUTH_ROOT}token/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.access_token) throw new Error(body.error_description || body.error || `token endpoint answered ${res.status}`);
  if (body.expires_in) body.expires_at = Date.now() + body.expires_in * 1000;
  localStorage.setItem(TOKEN_KEY, JSON.stringify(body));
  return body;
}

// Called once at start-up. Finishes a redirect from /oauth/authorize/ when
// the URL carries code/state (or error), refreshes an expired token, and
// returns the path to go back to after a completed login (or null).
export async function restoreLogin(loc = window.location) {
  const url = new URL(loc.href);
  const code = url.searchParams.get('code');
  const state = url.searchParams.get('state');
  const error = url.searchParams.get('error');
  if (code || error) {
    const pending = readJson(PENDING_KEY);
    localStorage.removeItem(PENDING_KEY);
    for (const k of ['code', 'state', 'error', 'error_description', 'error_uri']) url.searchParams.delete(k);
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    if (error) throw new Error(`Login failed: ${url.searchParams.get('error_description') || error}`);
    if (!pending || pending.state !== state) throw new Error('Login failed: the state returned by the server does not match.');
    await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: CLIENT_ID,
      code_verifier: pending.verifier,
    });
    localStorage.removeItem(APIKEY_KEY);
    return pending.returnTo || '/';
  }
  const tok = readJson(TOKEN_KEY);
  if (tok && tok.expires_at && tok.expires_at < Date.now()) {
    if (tok.refresh_token) {
      try {
        await tokenRequest({ grant_type: 'refresh_token', refresh_token: tok.refresh_token, client_id: CLIENT_ID });
      } catch {
        localStorage.removeItem(TOKEN_KEY);
      }
    } else {
      localStorage.removeItem(TOKEN_KEY);
    }
  }
  return null;
}

// Forgets the credentials; an OAuth token is revoked at the server first.
// Only this app's own keys are removed from localStorage.
export async function logout() {
  const tok = readJson(TOKEN_KEY);
  if (tok && tok.access_token) {
    try {
      const r = await fetch(`${OAUTH_ROOT}revoke_token/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tok.access_token, client_id: CLIENT_ID }).toString(),
      });
      // The whole answer, not just its headers: a body left unread is cut
      // off (ERR_ABORTED) when the app moves on.
      await r.text();
    } catch { /* the token is dropped locally anyway */ }
  }
  for (const k of [TOKEN_KEY, PENDING_KEY, APIKEY_KEY]) localStorage.removeItem(k);
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const k = localStorage.key(i);
    if (k && k.startsWith('dandi-meditor-')) localStorage.removeItem(k);
  }
}
