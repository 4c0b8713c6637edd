// The web app's real sign-in: OAuth2 authorization code + PKCE against the
// archive's own provider. A new user signs up on the server's page,
// answers the questionnaire, comes back to the app with a code, which the
// app trades for a Bearer token; logging out revokes that token.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join } from 'node:path';
import { assert, assertEq, screenshot, signUp } from './lib.mjs';

export async function run({ base, browser, tap, shots }) {
  const user = `web${Date.now().toString(36)}`;
  const ctx = await browser.newContext({ baseURL: base });
  const page = await ctx.newPage();
  let bearer = null;
  page.on('request', (r) => {
    const h = r.headers().authorization;
    if (h && h.startsWith('Bearer ')) bearer = h.slice(7);
  });

  await tap.test('sign in through OAuth + PKCE: sign up, questionnaire, back in the app with a Bearer token', async () => {
    await signUp(page, { user, first: 'Webb', last: 'Tester',
      loginUrl: /\/accounts\/login\/\?next=%2Foauth%2Fauthorize%2F/,
      onLogin: () => screenshot(page, join(shots, 'login-server-page.png'), { fullPage: true }),
      onQuestionnaire: () => screenshot(page, join(shots, 'login-questionnaire.png'), { fullPage: true }) });
    // Back in the app where the login started, signed in.
    await page.waitForURL((u) => u.pathname === '/dandiset' && !u.searchParams.has('code'));
    await page.locator('#user-menu').waitFor();
    assertEq(await page.locator('#user-menu').textContent(), 'WT', 'initials of the new user');
    assert(bearer && /^[0-9a-f]{64}$/.test(bearer), 'API calls carry a Bearer token');
    const me = await fetch(`${base}/api/users/me/`, { headers: { Authorization: `Bearer ${bearer}` } }).then((r) => r.json());
    assertEq(me.username, user, 'the token is the new user\'s');
    assertEq(me.status, 'APPROVED', '.edu addresses are approved on the questionnaire');
    await screenshot(page, join(shots, 'login-done.png'), { fullPage: true });
  });

  await tap.test('an owner adds an owner in the Manage Owners dialog', async () => {
    const h = { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' };
    const d = await fetch(`${base}/api/dandisets/`, { method: 'POST', headers: h, body: JSON.stringify({ name: `Owned by ${user}`, metadata: {} }) }).then((r) => r.json());
    await page.goto(`/dandiset/${d.identifier}`);
    await page.locator('#manage-owners').click();
    await page.getByLabel('Add an owner (username, name or e-mail)').fill('admin');
    await page.getByRole('button', { name: 'Add admin' }).click();
    await screenshot(page, join(shots, 'manage-owners.png'));
    await page.locator('#owners-save').click();
    await page.locator('#owners-save').waitFor({ state: 'detached' });
    const owners = await fetch(`${base}/api/dandisets/${d.identifier}/users/`).then((r) => r.json());
    assertEq(owners.map((o) => o.username).sort().join(','), ['admin', user].sort().join(','), 'both owners saved');
  });

  await tap.test('log out revokes the token', async () => {
    // Nothing the app sent while logging out may be cut off (ERR_ABORTED).
    const failed = [];
    const onFail = (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`);
    page.on('requestfailed', onFail);
    await page.locator('#user-menu').click();
    await page.locator('#logout').click();
    await page.locator('#login').waitFor();
    await page.waitForLoadState('networkidle');
    page.off('requestfailed', onFail);
    assert(failed.length === 0, `requests cut off by the logout:\n${failed.join('\n')}`);
    const r = await fetch(`${base}/api/users/me/`, { headers: { Authorization: `Bearer ${bearer}` } });
    assertEq(r.status, 401, 'the revoked token is refused');
  });
  await ctx.close();
}
