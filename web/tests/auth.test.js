import { describe, it, expect, beforeEach, vi } from 'vitest';
import { pkceChallenge, authHeader, setApiKey, restoreLogin, logout, startOAuthLogin, CLIENT_ID } from '../src/lib/auth.js';
import { errorText, get } from '../src/lib/api.js';
import { store, reportError } from '../src/lib/store.js';

describe('auth', () => {
  beforeEach(() => { localStorage.clear(); vi.restoreAllMocks(); });

  it('computes the S256 PKCE challenge (RFC 7636 appendix B)', async () => {
    expect(await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('sends an API key as "token" and an OAuth token as Bearer', () => {
    expect(authHeader()).toEqual({});
    localStorage.setItem(`oauth-token-${CLIENT_ID}`, JSON.stringify({ access_token: 'abc', token_type: 'Bearer' }));
    expect(authHeader()).toEqual({ Authorization: 'Bearer abc' });
    setApiKey(' k123 ');
    expect(authHeader()).toEqual({ Authorization: 'token k123' });
  });

  it('refuses a redirect whose state does not match', async () => {
    localStorage.setItem(`oauth-pending-${CLIENT_ID}`, JSON.stringify({ state: 'good', verifier: 'v' }));
    await expect(restoreLogin({ href: 'http://localhost:3000/?code=c&state=evil' })).rejects.toThrow(/state/);
    expect(localStorage.getItem(`oauth-pending-${CLIENT_ID}`)).toBe(null);
  });

  it('exchanges the code with the verifier and keeps the token', async () => {
    localStorage.setItem(`oauth-pending-${CLIENT_ID}`, JSON.stringify({ state: 's1', verifier: 'ver', returnTo: '/dandiset/my' }));
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 3600 }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const back = await restoreLogin({ href: 'http://localhost:3000/?code=thecode&state=s1' });
    expect(back).toBe('/dandiset/my');
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/oauth/token/');
    const body = new URLSearchParams(init.body);
    expect(body.get('grant_type')).toBe('authorization_code');
    expect(body.get('code')).toBe('thecode');
    expect(body.get('code_verifier')).toBe('ver');
    expect(body.get('client_id')).toBe(CLIENT_ID);
    expect(body.get('redirect_uri')).toBe(`${window.location.origin}/`);
    expect(authHeader()).toEqual({ Authorization: 'Bearer tok' });
    vi.unstubAllGlobals();
  });

  it('starts the flow with S256, state and the app origin as redirect', async () => {
    const assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, origin: window.location.origin, assign });
    Object.defineProperty(window, 'isSecureContext', { value: true, configurable: true });
    await startOAuthLogin('/x');
    const u = new URL(assign.mock.calls[0][0], 'http://h');
    expect(u.pathname).toBe('/oauth/authorize/');
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');
    expect(u.searchParams.get('response_type')).toBe('code');
    const pending = JSON.parse(localStorage.getItem(`oauth-pending-${CLIENT_ID}`));
    expect(u.searchParams.get('state')).toBe(pending.state);
    expect(u.searchParams.get('code_challenge')).toBe(await pkceChallenge(pending.verifier));
    vi.unstubAllGlobals();
  });

  it('logout revokes an OAuth token and forgets only its own keys', async () => {
    localStorage.setItem(`oauth-token-${CLIENT_ID}`, JSON.stringify({ access_token: 'tok' }));
    localStorage.setItem('other-app', 'keep');
    const fetchMock = vi.fn(async () => new Response('', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    await logout();
    expect(fetchMock.mock.calls[0][0]).toBe('/oauth/revoke_token/');
    expect(new URLSearchParams(fetchMock.mock.calls[0][1].body).get('token')).toBe('tok');
    expect(localStorage.getItem(`oauth-token-${CLIENT_ID}`)).toBe(null);
    expect(localStorage.getItem('other-app')).toBe('keep');
    vi.unstubAllGlobals();
  });

  it("shows a server error's request id, for the user to quote", async () => {
    const answer = (status, body) => vi.fn(async () => new Response(JSON.stringify(body),
      { status, headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'rid-42' } }));
    vi.stubGlobal('fetch', answer(500, { detail: 'Internal server error.', request_id: 'rid-42' }));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    let err = await get('dandisets/').catch((e) => e);
    expect(err.requestId).toBe('rid-42');
    reportError(err, 'Loading');
    expect(store.snackbar.text).toBe('Loading: Internal server error. (request id rid-42)');
    vi.stubGlobal('fetch', answer(404, { detail: 'Not found.' }));
    err = await get('dandisets/').catch((e) => e);
    reportError(err, 'Loading');
    expect(store.snackbar.text).toBe('Loading: Not found.');
    vi.unstubAllGlobals();
  });

  it('turns the API error shapes into text', () => {
    expect(errorText('bare')).toBe('bare');
    expect(errorText(['a', 'b'])).toBe('a; b');
    expect(errorText({ detail: 'Not found.' })).toBe('Not found.');
    expect(errorText({ name: ['required'], non_field_errors: ['x'] })).toBe('name: required; x');
  });
});
