// The API documentation pages in a browser: /swagger/ leads to Swagger UI at
// /api/docs/swagger/, which renders the operations of the archive's OpenAPI
// document and whose "Try it out" calls this archive; /redoc/ leads to ReDoc
// at /api/docs/redoc/, which renders the same document. Every request the
// pages make stays on the archive's origin (no CDN, no validator badge):
// ReDoc's vendor logo, the one outside address in its bundle, is stopped by
// the pages' Content-Security-Policy before it is sent.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join } from 'node:path';
import { assert, assertEq, screenshot } from './lib.mjs';

export async function run({ base, browser, tap, shots }) {
  const origin = new URL(base).origin;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(20000);
  const outside = new Map();	// url -> why it did not go out (null: it did)
  const failed = [];
  const away = (r) => { const u = new URL(r.url()); return !['data:', 'blob:'].includes(u.protocol) && u.origin !== origin; };
  ctx.on('request', (r) => { if (away(r)) outside.set(r.url(), null); });
  ctx.on('requestfailed', (r) => {
    if (away(r)) outside.set(r.url(), r.failure() && r.failure().errorText);
    else failed.push(`${r.failure() && r.failure().errorText} ${r.url()}`);
  });
  ctx.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await tap.test('docs: /swagger/ leads to Swagger UI listing the operations of the document', async () => {
    await page.goto('/swagger/');
    assertEq(new URL(page.url()).pathname, '/api/docs/swagger/', 'redirected to the page');
    await page.locator('.opblock-summary-path[data-path="/api/dandisets/"]').first().waitFor();
    const doc = await (await page.request.get('/api/docs/?format=openapi')).json();
    const want = Object.values(doc.paths).reduce((n, item) =>
      n + ['get', 'put', 'post', 'delete'].filter((m) => item[m]).length, 0);
    assertEq(await page.locator('.opblock').count(), want, 'one block per operation of the document');
    for (const path of ['/api/dandisets/{dandiset__pk}/versions/{version}/',
      '/api/dandisets/{versions__dandiset__pk}/versions/{versions__version}/assets/{asset_id}/',
      '/api/uploads/{upload_id}/complete/', '/api/zarr/{zarr_id}/files/']) {
      assert(await page.locator(`.opblock-summary-path[data-path="${path}"]`).count() > 0, `${path} shown`);
    }
    await screenshot(page, join(shots, 'docs-swagger.png'));
  });

  await tap.test('docs: Swagger UI "Try it out" calls this archive (GET /api/info/)', async () => {
    const op = page.locator('#operations-info-info_read');
    await op.locator('.opblock-summary').click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    const answer = page.waitForResponse((r) => r.url() === `${base}/api/info/`);
    await op.getByRole('button', { name: 'Execute' }).click();
    assertEq((await answer).status(), 200, 'the call');
    await op.locator('.live-responses-table .response-col_status', { hasText: '200' }).first().waitFor();
    const shown = await op.locator('.live-responses-table .microlight').first().textContent();
    assert(shown.includes('cli-minimal-version'), 'the answer is shown');
  });

  await tap.test('docs: /redoc/ leads to ReDoc showing the document', async () => {
    await page.goto('/redoc/');
    assertEq(new URL(page.url()).pathname, '/api/docs/redoc/', 'redirected to the page');
    await page.locator('h2', { hasText: 'List dandisets' }).first().waitFor();
    await page.locator('h2', { hasText: 'Add an asset to the draft' }).first().waitFor();
    const text = await page.locator('.redoc-wrap').textContent();
    assert(text.includes('/api/dandisets/{dandiset__pk}/versions/{version}/publish/'), 'paths are shown');
    assert(text.includes('DANDI Archive'), 'the title is shown');
    await screenshot(page, join(shots, 'docs-redoc.png'));
  });

  const sent = [...outside].filter(([, why]) => !['csp', 'net::ERR_BLOCKED_BY_CSP'].includes(why));
  tap.ok(sent.length === 0, 'docs: no request left the archive\'s origin (the CSP stops any other)',
    sent.map(([u, why]) => `${u} (${why || 'sent'})`).join('\n'));
  tap.ok(failed.length === 0, 'docs: every request succeeded', failed.join('\n'));
  tap.ok(errors.length === 0, 'docs: no script errors', errors.join('\n'));
  await ctx.close();
}
