// Publishing and unembargo from the landing page: the Publish button's
// reasons while the draft is Pending or Invalid, the validation error
// list, the checklist and release-notes dialogs, the status while the
// publish job runs, the published version (DOI link, Cite As and its copy
// button, share dialog, download commands), unembargo with its
// confirmation, the admin dashboard link and the cookie notice.
// The drafts become Valid through the real validation sweep: `dandi-jobs
// run` (DANDI_JOBS_CMD) computes the sha256 of the uploaded blobs, then
// validates, and later runs the publish and unembargo jobs.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { Api, uploadAsset, assert, assertEq, screenshot } from './lib.mjs';

export async function run({ base, token, browser, tap, shots }) {
  const jobsCmd = process.env.DANDI_JOBS_CMD;
  if (!jobsCmd) {
    tap.ok(true, 'publish: skipped, DANDI_JOBS_CMD is not set');
    return;
  }
  const jobs = (what = 'run') => execSync(`${jobsCmd} ${what}`, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const api = new Api(base, token);
  const tag = `x${Date.now().toString(36)}`;
  const snap = (page, name) => screenshot(page, join(shots, `publish-${name}.png`), { fullPage: true });
  const md = (name) => ({
    name,
    description: `A dandiset the browser tests publish (${tag}).`,
    license: ['spdx:CC-BY-4.0'],
    keywords: ['publish-test'],
    contributor: [{ schemaKey: 'Person', name: 'Smith, Alice', email: 'alice@example.org', roleName: ['dcite:ContactPerson', 'dcite:Author'], includeInCitation: true }],
  });
  const ids = {};

  await tap.test('publish: seed a complete dandiset with an asset, an incomplete one and an embargoed one', async () => {
    ids.good = (await api.post('/api/dandisets/', { name: `Publishable ${tag}`, metadata: md(`Publishable ${tag}`) })).identifier;
    await uploadAsset(api, ids.good, 'sub-01/sub-01_ecephys.nwb', Buffer.from(`publish me ${tag}\n`), { schemaKey: 'Asset', encodingFormat: 'application/x-nwb' });
    ids.bad = (await api.post('/api/dandisets/', { name: `Incomplete ${tag}`, metadata: { name: `Incomplete ${tag}` } })).identifier;
    await uploadAsset(api, ids.bad, 'data.bin', Buffer.from(`incomplete ${tag}\n`));
    ids.emb = (await api.post('/api/dandisets/', { name: `Embargoed ${tag}`, metadata: md(`Embargoed ${tag}`) }, { query: { embargo: 'true' } })).identifier;
    assertEq((await api.get(`/api/dandisets/${ids.emb}/`)).embargo_status, 'EMBARGOED', 'embargoed');
  });
  if (!ids.emb) return;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(20000);
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await ctx.addInitScript((k) => { if (!localStorage.getItem('dandi-api-key')) localStorage.setItem('dandi-api-key', k); }, token);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await tap.test('publish: a Pending draft cannot be published yet, and says why', async () => {
    await page.goto(`/dandiset/${ids.good}/draft`);
    await page.locator('#publish').waitFor();
    assertEq(await page.locator('[data-status]').textContent(), 'Pending', 'status');
    assert(await page.locator('#publish').isDisabled(), 'disabled');
    assertEq(await page.locator('#publish-why').textContent(), 'This dandiset has not yet been validated.', 'reason');
  });

  await tap.test('publish: after the validation sweep the draft is Valid and Publish is enabled', async () => {
    jobs('run');
    const info = await api.get(`/api/dandisets/${ids.good}/versions/draft/info/`);
    assertEq(info.status, 'Valid', `draft status (errors ${JSON.stringify([info.version_validation_errors, info.asset_validation_errors])})`);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-status]') && document.querySelector('[data-status]').textContent === 'Valid');
    assert(await page.locator('#publish').isEnabled(), 'enabled');
    assertEq(await page.locator('#publish-why').count(), 0, 'no reason shown');
    await snap(page, 'valid-draft');
  });

  await tap.test('publish: an Invalid draft lists its metadata and asset errors and cannot be published', async () => {
    const p = await ctx.newPage();
    await p.goto(`/dandiset/${ids.bad}/draft`);
    await p.waitForFunction(() => document.querySelector('[data-status]') && document.querySelector('[data-status]').textContent === 'Invalid');
    assert(await p.locator('#publish').isDisabled(), 'disabled');
    assert(/validation error/.test(await p.locator('#publish-why').textContent()), 'reason names the errors');
    const alert = p.getByRole('button', { name: /metadata validation error/ });
    await alert.click();
    const dlg = p.getByRole('dialog', { name: 'Validation errors' });
    await dlg.waitFor();
    const items = await dlg.locator('.error-list > li').allTextContents();
    assert(items.length > 0 && items.some((t) => /description|license|contributor/.test(t)), `errors listed: ${items.join(' | ')}`);
    await dlg.getByRole('link', { name: 'Fix issues' }).waitFor();
    await dlg.getByRole('tab', { name: /Assets/ }).click();
    const assetItems = await dlg.locator('.error-list > li > strong').allTextContents();
    assert(assetItems.includes('data.bin'), `asset errors grouped by path: ${assetItems.join(' | ')}`);
    await dlg.getByRole('tab', { name: /Metadata/ }).click();
    // Keyboard: the arrow keys move between the two tabs and focus them.
    await dlg.getByRole('tab', { name: /Metadata/ }).focus();
    await p.keyboard.press('ArrowRight');
    await p.waitForFunction(() => document.activeElement && document.activeElement.id === 'errors-tab-assets');
    assertEq(await dlg.getByRole('tab', { name: /Assets/ }).getAttribute('aria-selected'), 'true', 'ArrowRight selects Assets');
    assertEq(await dlg.getByRole('tabpanel').getAttribute('aria-labelledby'), 'errors-tab-assets', 'the assets panel shows');
    await p.keyboard.press('ArrowLeft');
    await p.waitForFunction(() => document.activeElement && document.activeElement.id === 'errors-tab-metadata');
    assertEq(await dlg.getByRole('tab', { name: /Metadata/ }).getAttribute('tabindex'), '0', 'roving tabindex');
    await screenshot(p, join(shots, 'publish-invalid-errors.png'));
    await p.close();
  });

  let published = null;
  await tap.test('publish: checklist, release notes, "being published" while the job waits, then "Publish complete."', async () => {
    await page.locator('#publish').click();
    await page.getByRole('dialog', { name: 'Publish Checklist' }).waitFor();
    assertEq(await page.locator('.checklist li').count(), 6, 'six recommendations');
    await page.locator('#publish-continue').click();
    await page.getByRole('dialog', { name: 'Release Notes (Optional)' }).waitFor();
    await page.getByLabel(/What changed in this version/).fill(`First release ${tag}`);
    await page.locator('#publish-confirm').click();
    await page.locator('.publishing-banner').waitFor();
    assert(await page.locator('#publish').isDisabled(), 'disabled while publishing');
    await snap(page, 'publishing');
    jobs('run');
    await page.getByText('Publish complete.').waitFor({ timeout: 30000 });
    const versions = (await api.get(`/api/dandisets/${ids.good}/versions/`)).results.filter((v) => v.version !== 'draft');
    assertEq(versions.length, 1, 'one published version');
    published = versions[0].version;
    assert(/^0\.\d{6}\.\d{4}$/.test(published), `version string ${published}`);
    await page.getByRole('link', { name: 'Go to published dandiset' }).click();
    await page.waitForURL(new RegExp(`/dandiset/${ids.good}/${published.replace(/\./g, '\\.')}$`));
  });

  await tap.test('published version: DOI link, Cite As with a working copy button, release notes', async () => {
    const meta = await api.get(`/api/dandisets/${ids.good}/versions/${published}/`);
    await page.locator('.cite-as').waitFor();
    assertEq((await page.locator('.cite-as-text').textContent()).trim(), meta.citation, 'citation from the metadata');
    if (meta.doi) assertEq(await page.locator('.doi-link').getAttribute('href'), `https://doi.org/${meta.doi}`, 'DOI link');
    await page.locator('.cite-as').getByRole('button', { name: 'Copy citation' }).click();
    await page.locator('.cite-as').getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    assertEq(await page.evaluate(() => navigator.clipboard.readText()), meta.citation, 'clipboard holds the citation');
    await page.getByRole('button', { name: `Release notes of ${published}` }).click();
    await page.getByText(`First release ${tag}`).waitFor();
    await page.keyboard.press('Escape');
    await snap(page, 'published');
    // How to Cite: APA is the archive's citation; BibTeX is built from the
    // metadata and copied as shown.
    await page.getByRole('tab', { name: 'How to Cite' }).click();
    assertEq((await page.getByTestId('citation').textContent()).trim(), meta.citation, 'APA 7th by default');
    await page.getByLabel('Format').selectOption({ label: 'BibTeX' });
    const bib = await page.locator('pre.citation').textContent();
    assert(bib.startsWith(`@misc{dandi_${ids.good}_${published},`), `BibTeX key: ${bib.split('\n')[0]}`);
    assert(bib.includes('author = {Smith, Alice}') && bib.includes(`version = {${published}}`), `BibTeX fields: ${bib}`);
    await page.getByRole('button', { name: 'Copy full citation' }).click();
    await page.locator('.cite').getByRole('status').filter({ hasText: 'Copied' }).first().waitFor();
    assertEq(await page.evaluate(() => navigator.clipboard.readText()), bib, 'clipboard holds the BibTeX');
    await page.getByLabel('Format').selectOption({ label: 'RIS' });
    assert((await page.locator('pre.citation').textContent()).startsWith('TY  - DATA\nAU  - Smith, Alice\n'), 'RIS');
    await snap(page, 'published-cite-bibtex');
    await page.getByLabel('Format').selectOption({ label: 'APA 7th' });
    await page.getByRole('tab', { name: 'Overview' }).click();
    // Without a DOI server the archive may leave doi out: check the link
    // with one put into the version's metadata on the way.
    if (!meta.doi) {
      const doi = `10.80507/dandi.${ids.good}/${published}`;
      await page.route(`**/api/dandisets/${ids.good}/versions/${published}/info/`, async (r) => {
        const res = await r.fetch();
        const j = await res.json();
        j.metadata.doi = doi;
        await r.fulfill({ response: res, json: j });
      });
      await page.reload();
      await page.locator('.doi-link').waitFor();
      assertEq(await page.locator('.doi-link').getAttribute('href'), `https://doi.org/${doi}`, 'DOI link (doi mocked)');
      await page.unroute(`**/api/dandisets/${ids.good}/versions/${published}/info/`);
      await page.reload();
      await page.locator('.cite-as').waitFor();
    }
  });

  await tap.test('published version: share dialog and download commands by URL and by identifier', async () => {
    await page.locator('#share').click();
    const dlg = page.getByRole('dialog', { name: `Share "Publishable ${tag}"` });
    await dlg.waitFor();
    assertEq(await dlg.getByLabel('Link to this version').inputValue(), `${base}/dandiset/${ids.good}/${published}`, 'link');
    const meta = await api.get(`/api/dandisets/${ids.good}/versions/${published}/`);
    assertEq(await dlg.getByLabel('DOI', { exact: true }).count(), meta.doi ? 1 : 0, 'DOI row only with a DOI');
    if (meta.doi) assertEq(await dlg.getByLabel('DOI', { exact: true }).inputValue(), `https://doi.org/${meta.doi}`, 'DOI');
    const tweet = await dlg.getByRole('link', { name: /Share on X/ }).getAttribute('href');
    assert(tweet.startsWith('https://twitter.com/intent/tweet?'), 'tweet link');
    await screenshot(page, join(shots, 'publish-share.png'));
    await page.keyboard.press('Escape');
    await page.locator('#download').click();
    assertEq(await page.locator('.cli-command').textContent(), `dandi download ${base}/dandiset/${ids.good}/${published}`, 'by URL');
    await page.getByText('Download a different version?').click();
    assertEq(await page.locator('.dl-id').textContent(), `dandi download DANDI:${ids.good}/${published}`, 'by identifier');
    await page.getByLabel('Draft', { exact: true }).check();
    assertEq(await page.locator('.dl-id').textContent(), `dandi download DANDI:${ids.good}/draft`, 'draft by identifier');
    const sw = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(sw <= 1280, `the open download menu stays in the window (scrollWidth ${sw})`);
    await screenshot(page, join(shots, 'publish-download.png'));
    await page.keyboard.press('Escape');
  });

  await tap.test('publish: the draft right after publishing has no changes to publish', async () => {
    await page.goto(`/dandiset/${ids.good}/draft`);
    await page.locator('#publish-why').waitFor();
    assertEq(await page.locator('#publish-why').textContent(), 'No changes since last publish.', 'reason');
  });

  await tap.test('unembargo: no Publish; confirmation needs the identifier; "Unembargoing" until the job is done', async () => {
    await page.goto(`/dandiset/${ids.emb}/draft`);
    await page.locator('#unembargo').waitFor();
    assertEq(await page.locator('#publish').count(), 0, 'no publish button while embargoed');
    await page.locator('#unembargo').click();
    const dlg = page.getByRole('dialog', { name: 'Unembargo Dandiset' });
    await dlg.waitFor();
    const yes = dlg.getByRole('button', { name: 'Yes' });
    assert(await yes.isDisabled(), 'Yes disabled');
    await dlg.getByLabel(/Type the identifier/).fill('000000');
    assert(await yes.isDisabled(), 'still disabled for a wrong identifier');
    await dlg.getByLabel(/Type the identifier/).fill(ids.emb);
    await yes.click();
    await page.locator('.unembargoing-banner').waitFor();
    assertEq((await page.locator('#unembargo').textContent()).trim(), 'Unembargoing', 'button text');
    assert(await page.locator('#unembargo').isDisabled(), 'disabled while unembargoing');
    assertEq((await api.get(`/api/dandisets/${ids.emb}/`)).embargo_status, 'UNEMBARGOING', 'API status');
    await snap(page, 'unembargoing');
    jobs('run');
    await page.getByText('Unembargo complete').waitFor({ timeout: 30000 });
    assertEq((await api.get(`/api/dandisets/${ids.emb}/`)).embargo_status, 'OPEN', 'API status after the job');
  });

  await tap.test('admin: the user menu links the approval dashboard', async () => {
    await page.goto('/');
    await page.locator('#user-menu').click();
    const link = page.locator('#admin-dashboard');
    await link.waitFor();
    assertEq(await link.getAttribute('href'), '/dashboard/', 'href');
    const p = await ctx.newPage();
    await p.route('**/api/users/me/', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ username: 'nonadmin', name: 'Not Admin', admin: false, status: 'APPROVED' }) }));
    await p.route('**/api/auth/token/', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '"0000"' }));
    await p.goto('/');
    await p.locator('#user-menu').click();
    await p.locator('#logout').waitFor();
    assertEq(await p.locator('#admin-dashboard').count(), 0, 'no link for a user who is not an admin');
    await p.close();
  });

  await tap.test('cookie notice: shown until "Got it!", which sets dandi-cookie-consent', async () => {
    const c = await browser.newContext({ baseURL: base, showCookieNotice: true, viewport: { width: 390, height: 844 } });
    const p = await c.newPage();
    await p.goto('/');
    const notice = p.getByRole('region', { name: 'Cookie notice' });
    await notice.getByText('We use cookies to ensure you get the best experience on DANDI.').waitFor();
    await screenshot(p, join(shots, 'publish-cookie-notice.png'));
    await notice.getByRole('button', { name: 'Got it!' }).click();
    await notice.waitFor({ state: 'detached' });
    // document.cookie is written in the page's process and reaches the
    // browser's cookie store a moment later: wait for it (up to 10 s).
    let cookie;
    for (let i = 0; i < 100 && !cookie; i++) {
      cookie = (await c.cookies()).find((k) => k.name === 'dandi-cookie-consent');
      if (!cookie) await p.waitForTimeout(100);
    }
    assert(cookie && cookie.value === 'true' && cookie.path === '/', 'cookie set');
    assert(cookie.expires > Date.now() / 1000 + 170 * 86400, 'kept for about six months');
    await p.reload();
    await p.getByRole('heading', { name: 'The DANDI Archive' }).waitFor();
    assertEq(await p.getByRole('region', { name: 'Cookie notice' }).count(), 0, 'not shown again');
    await c.close();
  });

  await tap.test('publish: no uncaught page errors', async () => {
    assert(errors.length === 0, errors.join('\n'));
  });
  await ctx.close();
}
