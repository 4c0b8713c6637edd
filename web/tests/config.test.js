import { describe, it, expect, afterEach, vi } from 'vitest';
import { resolveConfig, DEFAULT_CLIENT_ID } from '../src/lib/config.js';

const PAGE = 'https://dandi.example.org';

describe('resolveConfig: where the API is', () => {
  it('defaults to the app\'s own origin, as paths', () => {
    expect(resolveConfig(undefined, {}, PAGE)).toEqual({
      apiRoot: '/api/', oauthApiRoot: '/oauth/', oauthClientId: DEFAULT_CLIENT_ID, serverRoot: '/',
    });
  });

  it('takes the original\'s build-time names', () => {
    const c = resolveConfig({}, {
      VITE_APP_DANDI_API_ROOT: 'https://api.example.org/api/',
      VITE_APP_OAUTH_API_ROOT: 'https://auth.example.org/oauth/',
      VITE_APP_OAUTH_CLIENT_ID: 'client-1',
    }, PAGE);
    expect(c.apiRoot).toBe('https://api.example.org/api/');
    expect(c.oauthApiRoot).toBe('https://auth.example.org/oauth/');
    expect(c.oauthClientId).toBe('client-1');
    expect(c.serverRoot).toBe('https://api.example.org/');
  });

  it('lets config.js override the build, and puts /oauth/ beside its API', () => {
    const c = resolveConfig({ apiRoot: 'https://api2.example.org/api' }, {
      VITE_APP_DANDI_API_ROOT: 'https://api.example.org/api/',
      VITE_APP_OAUTH_API_ROOT: 'https://api.example.org/oauth/',
    }, PAGE);
    expect(c.apiRoot).toBe('https://api2.example.org/api/');
    expect(c.oauthApiRoot).toBe('https://api2.example.org/oauth/');
    expect(c.oauthClientId).toBe(DEFAULT_CLIENT_ID);
  });

  it('keeps paths for an API named on the app\'s own origin, and under a prefix', () => {
    expect(resolveConfig({ apiRoot: `${PAGE}/api/` }, {}, PAGE).apiRoot).toBe('/api/');
    const c = resolveConfig({ apiRoot: 'https://x.example.org/archive/api/' }, {}, PAGE);
    expect(c.oauthApiRoot).toBe('https://x.example.org/archive/oauth/');
    expect(c.serverRoot).toBe('https://x.example.org/archive/');
  });

  it('ignores empty and non-string values', () => {
    expect(resolveConfig({ apiRoot: ' ', oauthClientId: 42 }, { VITE_APP_DANDI_API_ROOT: '' }, PAGE).apiRoot).toBe('/api/');
    expect(resolveConfig('nonsense', null, PAGE).apiRoot).toBe('/api/');
  });
});

describe('the app with its API on another origin (window.DANDI_CONFIG)', () => {
  afterEach(() => { delete window.DANDI_CONFIG; vi.resetModules(); vi.unstubAllGlobals(); localStorage.clear(); });

  it('sends API calls, token requests and links to the API\'s origin', async () => {
    vi.resetModules();
    window.DANDI_CONFIG = { apiRoot: 'https://api.example.org/api/' };
    const api = await import('../src/lib/api.js');
    const auth = await import('../src/lib/auth.js');
    expect(api.apiUrl('dandisets/', { page: 2 })).toBe('https://api.example.org/api/dandisets/?page=2');
    expect(api.apiUrl('/api/info/')).toBe('https://api.example.org/api/info/');
    expect(api.assetDownloadUrl('u1')).toBe('https://api.example.org/api/assets/u1/download/');
    expect(api.absoluteUrl(api.assetDownloadUrl('u1'))).toBe('https://api.example.org/api/assets/u1/download/');
    expect(api.manifestUrl('000001', 'draft')).toBe('https://api.example.org/api/dandisets/000001/versions/draft/assets/');
    expect(api.serverPageUrl('dashboard/')).toBe('https://api.example.org/dashboard/');
    expect(auth.OAUTH_ROOT).toBe('https://api.example.org/oauth/');

    const fetchMock = vi.fn(async () => new Response('{"count":0}', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    await api.get('dandisets/');
    expect(fetchMock.mock.calls[0][0]).toBe('https://api.example.org/api/dandisets/');
    await auth.logout(); // nothing to revoke: no request
    localStorage.setItem(`oauth-token-${auth.CLIENT_ID}`, JSON.stringify({ access_token: 't' }));
    await auth.logout();
    expect(fetchMock.mock.calls[1][0]).toBe('https://api.example.org/oauth/revoke_token/');
    // The redirect URI stays this app's own origin.
    expect(auth.redirectUri()).toBe(`${window.location.origin}/`);
  });
});
