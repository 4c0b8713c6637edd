// The web app served from a second origin (another nginx on another port,
// contrib/dev/nginx-ctl start-web, its /config.js naming the API's origin):
// it signs a new user in through the API's OAuth provider (redirect_uri is
// its own origin, listed in web_app_origins), lists dandisets, creates one
// and edits its metadata (POST, PUT), uploads a file (S3 presigned URLs),
// and logs out (revocation), every API call going cross-origin, with no
// CORS error in the console. Called by t/web/run with { base, webOrigin,
// token, browser, tap, shots }; skipped without webOrigin (DANDI_WEB_ORIGIN).
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Api, assert, assertEq, dandiEtag, screenshot, signUp } from './lib.mjs';

export async function run({ base, webOrigin, token, browser, tap, shots }) {
  if (!webOrigin) {
    tap.skip('web app on a second origin', 'DANDI_WEB_ORIGIN is not set');
    return;
  }
  assert(new URL(webOrigin).origin !== new URL(base).origin, 'the second origin differs from the API\'s');
  const admin = new Api(base, token);
  const user = `xo${Date.now().toString(36)}`;
  const tag = `x${Date.now().toString(36)}`;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: webOrigin });
  ctx.setDefaultTimeout(20000);
  await ctx.addCookies([{ name: 'dandi-cookie-consent', value: 'true', url: webOrigin }]);
  const page = await ctx.newPage();

  // Everything the browser says about CORS, and where requests went.
  const corsErrors = [];
  const pageErrors = [];
  const apiCalls = [];
  const misrouted = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /CORS|blocked|Access-Control/i.test(m.text())) corsErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('requestfailed', (r) => {
    const f = r.failure();
    if (f && /CORS|blocked|ACCESS_CONTROL/i.test(f.errorText)) corsErrors.push(`${r.method()} ${r.url()}: ${f.errorText}`);
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === webOrigin && /^\/(api|oauth|accounts|dashboard)\//.test(u.pathname)) misrouted.push(r.url());
    if (u.origin === new URL(base).origin && /^\/(api|oauth)\//.test(u.pathname)) apiCalls.push(`${r.method()} ${u.pathname}`);
  });
  let bearer = null;
  page.on('request', (r) => {
    const h = r.headers().authorization;
    if (h && h.startsWith('Bearer ')) bearer = h.slice(7);
  });

  await tap.test('second origin: /config.js names the API; /server-info leads to it', async () => {
    const js = await fetch(`${webOrigin}/config.js`).then((r) => r.text());
    assert(js.includes(`"${base}/api/"`), `config.js points at the API: ${js}`);
    const info = await fetch(`${webOrigin}/server-info`).then((r) => r.json());
    assertEq(info.services.api.url, `${base}/api`, 'server-info through the web origin (dandi-cli)');
  });

  await tap.test('second origin: sign in through OAuth + PKCE on the API\'s pages, back with a Bearer token', async () => {
    await signUp(page, { user, first: 'Cross', last: 'Origin',
      loginUrl: (u) => u.origin === base && u.pathname === '/accounts/login/' });
    // Back on the second origin where the login started.
    await page.waitForURL((u) => u.origin === webOrigin && u.pathname === '/dandiset' && !u.searchParams.has('code'));
    await page.locator('#user-menu').waitFor();
    assertEq(await page.locator('#user-menu').textContent(), 'CO', 'initials of the new user');
    assert(bearer && /^[0-9a-f]{64}$/.test(bearer), 'API calls carry a Bearer token');
    assert(apiCalls.includes('POST /oauth/token/'), `the code was traded at the API's origin: ${apiCalls}`);
    await screenshot(page, join(shots, 'cross-origin-signed-in.png'), { fullPage: true });
  });

  let id = null;
  await tap.test('second origin: create a dandiset (POST) and find it in the list', async () => {
    await page.locator('#new-dandiset').click();
    await page.waitForURL(/\/dandiset\/create/);
    await page.getByLabel('Title').fill(`Cross-origin ${tag}`);
    await page.getByLabel('Description').fill('Made from the web app on its own origin.');
    await page.getByLabel('License').selectOption('spdx:CC0-1.0');
    await page.getByRole('button', { name: 'Register Dandiset' }).click();
    await page.waitForURL(/\/dandiset\/\d{6}$/);
    id = page.url().match(/(\d{6})$/)[1];
    await page.getByRole('link', { name: 'My Dandisets' }).click();
    await page.getByRole('link', { name: `Cross-origin ${tag}` }).waitFor();
    const owners = await admin.get(`/api/dandisets/${id}/users/`);
    assertEq(owners.map((o) => o.username).join(','), user, 'owned by the signed-in user');
  });

  await tap.test('second origin: edit the metadata (PUT) with the schema from the API', async () => {
    await page.goto(`/dandiset/${id}/draft/metadata`);
    await page.getByRole('tab', { name: 'General' }).waitFor();
    const desc = page.getByLabel('Description', { exact: false }).first();
    await desc.fill(`Edited across origins ${tag}`);
    await page.locator('#meditor-save').click();
    await page.getByText('Metadata saved.').waitFor();
    const md = await admin.get(`/api/dandisets/${id}/versions/draft/`);
    assertEq(md.description, `Edited across origins ${tag}`, 'description saved');
    assert(apiCalls.includes(`PUT /api/dandisets/${id}/versions/draft/`), 'the PUT went to the API\'s origin');
  });

  const bytes = randomBytes(2 * 1024 * 1024 + 5);
  await tap.test('second origin: upload a file (presigned S3 PUTs) and download it through the API', async () => {
    await page.goto(`/dandiset/${id}/draft/files`);
    await page.locator('#upload-open').click();
    await page.locator('#upload-files').setInputFiles({ name: 'sub-01_ecephys.nwb', mimeType: 'application/octet-stream', buffer: bytes });
    await page.getByLabel('Folder in the dandiset (empty for the top folder)').fill('sub-01');
    await page.locator('#upload-start').click();
    await page.getByText('Uploaded 1 file.').waitFor({ timeout: 60000 });
    await page.keyboard.press('Escape');
    const list = (await admin.get(`/api/dandisets/${id}/versions/draft/assets/`)).results;
    assertEq(list.map((a) => a.path).join(','), 'sub-01/sub-01_ecephys.nwb', 'the asset');
    const md = await admin.get(`/api/dandisets/${id}/versions/draft/assets/${list[0].asset_id}/`);
    assertEq(md.digest['dandi:dandi-etag'], dandiEtag(bytes), 'dandi-etag');
    // The file browser's links go to the API's origin, not this one.
    await page.getByRole('button', { name: /sub-01/ }).click();
    const link = page.getByRole('link', { name: 'Download sub-01_ecephys.nwb' });
    const href = await link.getAttribute('href');
    assertEq(href, `${base}/api/assets/${list[0].asset_id}/download/`, 'download link on the API origin');
    const got = Buffer.from(await (await fetch(href)).arrayBuffer());
    assert(got.equals(bytes), 'the same bytes back');
    await screenshot(page, join(shots, 'cross-origin-uploaded.png'), { fullPage: true });
  });

  await tap.test('second origin: log out revokes the token at the API', async () => {
    await page.locator('#user-menu').click();
    await page.locator('#logout').click();
    await page.locator('#login').waitFor();
    const r = await fetch(`${base}/api/users/me/`, { headers: { Authorization: `Bearer ${bearer}` } });
    assertEq(r.status, 401, 'the revoked token is refused');
  });

  await tap.test('second origin: no CORS errors, no API call to the web origin, no page errors', async () => {
    assert(corsErrors.length === 0, `CORS errors:\n${corsErrors.join('\n')}`);
    assert(misrouted.length === 0, `requests to the web origin meant for the API:\n${misrouted.join('\n')}`);
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
  await ctx.close();
}
