// What changed between versions (issue 21): the draft's landing page shows
// the changes since the last release (counts, the metadata's changes, the
// changed files, paged), and an older published version says that a newer
// one exists, with a link to it and to what changed since. Two versions
// published for real (uploads, the validation sweep and the publish job
// of dandi-jobs: DANDI_JOBS_CMD), between which a file was renamed, one
// removed, one added and the description edited; then 30 more files in
// the draft (more than a page of the list).
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { Api, uploadAsset, assert, assertEq, screenshot } from './lib.mjs';

export async function run({ base, token, browser, tap, shots }) {
  const jobsCmd = process.env.DANDI_JOBS_CMD;
  if (!jobsCmd) {
    tap.ok(true, 'version diff: skipped, DANDI_JOBS_CMD is not set');
    return;
  }
  const jobs = () => execSync(`${jobsCmd} run`, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const api = new Api(base, token);
  const tag = `d${Date.now().toString(36)}`;
  const snap = (page, name) => screenshot(page, join(shots, `version-diff-${name}.png`), { fullPage: true });
  const md = (description) => ({
    schemaKey: 'Dandiset',
    name: `Diffed ${tag}`,
    description,
    license: ['spdx:CC-BY-4.0'],
    contributor: [{ schemaKey: 'Person', name: 'Smith, Alice', email: 'alice@example.org', roleName: ['dcite:ContactPerson'], includeInCitation: true }],
  });
  const amd = { schemaKey: 'Asset', encodingFormat: 'application/x-nwb' };
  let id;
  const v = {};
  async function publish() {
    // The sweep: sha256 of new blobs, then the assets, then the draft.
    for (let i = 0; i < 3; i++) jobs();
    const info = await api.get(`/api/dandisets/${id}/versions/draft/info/`);
    assertEq(info.status, 'Valid', `draft status (${JSON.stringify([info.version_validation_errors, info.asset_validation_errors])})`);
    await api.post(`/api/dandisets/${id}/versions/draft/publish/`);
    jobs();
    const vs = (await api.get(`/api/dandisets/${id}/versions/`)).results.map((x) => x.version).filter((x) => x !== 'draft').sort();
    return vs[vs.length - 1];
  }

  await tap.test('version diff: seed two published versions and a draft with 30 more files', async () => {
    id = (await api.post('/api/dandisets/', { name: `Diffed ${tag}`, metadata: md('First release.') })).identifier;
    await uploadAsset(api, id, 'a.nwb', Buffer.from(`a ${tag}\n`), amd);
    const b = await uploadAsset(api, id, 'b.nwb', Buffer.from(`b ${tag}\n`), amd);
    const c = await uploadAsset(api, id, 'c.nwb', Buffer.from(`c ${tag}\n`), amd);
    v.one = await publish();
    assert(v.one, 'first version published');
    await api.put(`/api/dandisets/${id}/versions/draft/`, { name: `Diffed ${tag}`, metadata: md('Second release.') });
    await api.put(`/api/dandisets/${id}/versions/draft/assets/${b.asset_id}/`, { blob_id: b.blob, metadata: { ...amd, path: 'b-renamed.nwb' } });
    await api.req('DELETE', `/api/dandisets/${id}/versions/draft/assets/${c.asset_id}/`);
    const d = await uploadAsset(api, id, 'd.nwb', Buffer.from(`d ${tag}\n`), amd);
    v.two = await publish();
    assert(v.two && v.two !== v.one, `second version published (${v.one}, ${v.two})`);
    for (let i = 0; i < 30; i++) {
      await api.post(`/api/dandisets/${id}/versions/draft/assets/`, { blob_id: d.blob, metadata: { ...amd, path: `more/m${String(i).padStart(2, '0')}.nwb` } });
    }
    const diff = await api.get(`/api/dandisets/${id}/versions/${v.two}/diff/draft/`);
    assertEq(diff.count, 30, 'the API counts 30 changed files');
  });
  if (!v.two) return;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(20000);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const changes = page.getByTestId('version-changes');
  const count = (k) => changes.locator(`[data-count="${k}"]`).textContent();

  await tap.test('version diff: the draft shows the changes since the last release', async () => {
    await page.goto(`/dandiset/${id}/draft`);
    await changes.waitFor();
    assertEq((await changes.locator('h2').textContent()).trim(), `Changes since the last release (${v.two})`, 'title');
    await changes.locator('table.file-changes').waitFor();
    await changes.locator('ul.change-counts').waitFor();
    assertEq(await count('added'), '30 added', 'added');
    assertEq(await count('removed'), '0 removed', 'removed');
    assertEq(await changes.locator('tbody tr').count(), 25, 'a page of 25 files');
    assertEq(await changes.locator('tbody tr[data-type="added"] td.path').first().textContent().then((x) => x.trim()), 'more/m00.nwb', 'the first, in path order');
    assertEq(await page.getByTestId('newer-version').count(), 0, 'no newer-version banner on the draft');
    await snap(page, 'draft');
  });

  await tap.test('version diff: the files show before the counts come', async () => {
    // The counts' request (the one without count=false) held back: the
    // page's files show, the counts say they are coming, then arrive.
    const held = [];
    const isCounts = (u) => u.pathname.includes('/diff/') && !u.searchParams.has('count');
    await page.route(isCounts, (route) => { held.push(route); });
    await page.goto(`/dandiset/${id}/draft`);
    await changes.locator('table.file-changes').waitFor();
    assertEq(await changes.locator('tbody tr').count(), 25, 'a page of 25 files without the counts');
    await changes.getByTestId('counting').waitFor();
    assertEq(await changes.locator('ul.change-counts').count(), 0, 'no counts yet');
    assertEq(held.length, 1, 'the counts asked for once');
    for (const r of held) await r.continue();
    await page.unroute(isCounts);
    await changes.locator('ul.change-counts').waitFor();
    assertEq(await count('added'), '30 added', 'then the counts');
    assertEq(await changes.getByTestId('counting').count(), 0, 'no longer counting');
  });

  await tap.test('version diff: the pager shows the rest', async () => {
    await changes.getByRole('button', { name: 'Next page' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="version-changes"] tbody tr').length === 5);
    assertEq(await changes.locator('tbody tr td.path').last().textContent().then((x) => x.trim()), 'more/m29.nwb', 'the last file');
    assertEq(await count('added'), '30 added', 'the counts stay');
  });

  await tap.test('version diff: the latest published version has no banner and no changes card', async () => {
    await page.goto(`/dandiset/${id}/${v.two}`);
    await page.locator('h1.ds-title').waitFor();
    assertEq(await page.getByTestId('newer-version').count(), 0, 'no banner');
    assertEq(await changes.count(), 0, 'no changes card');
  });

  await tap.test('version diff: an older version says a newer one exists and links to it', async () => {
    await page.goto(`/dandiset/${id}/${v.one}`);
    const banner = page.getByTestId('newer-version');
    await banner.waitFor();
    assert((await banner.textContent()).includes(`A newer version of this Dandiset exists: ${v.two}.`), 'banner text');
    await snap(page, 'older');
    await banner.getByRole('link', { name: 'Go to the latest version' }).click();
    await page.waitForURL(new RegExp(`/dandiset/${id}/${v.two.replace(/\./g, '\\.')}$`));
  });

  await tap.test('version diff: "See what changed" shows the changes between the two releases', async () => {
    await page.goto(`/dandiset/${id}/${v.one}`);
    await page.getByTestId('newer-version').getByRole('link', { name: 'See what changed' }).click();
    await page.waitForURL(/changes_from=/);
    await changes.locator('table.file-changes').waitFor();
    assertEq((await changes.locator('h2').textContent()).trim(), `Changes since ${v.one}`, 'title');
    await changes.locator('ul.change-counts').waitFor();
    assertEq(await count('added'), '1 added', 'added');
    assertEq(await count('removed'), '1 removed', 'removed');
    assertEq(await count('renamed'), '1 renamed', 'renamed');
    const rows = await changes.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => `${tr.dataset.type} ${tr.querySelector('td.path').textContent.trim()}`));
    assertEq(JSON.stringify(rows), JSON.stringify(['renamed b.nwb → b-renamed.nwb', 'removed c.nwb', 'added d.nwb']), 'the files');
    await changes.locator('details.metadata-changes summary').click();
    const meta = await changes.locator('.metadata-changes li').allTextContents();
    assert(meta.some((t) => /changed\s+description\s+First release\. → Second release\./.test(t)), `the description's change (${JSON.stringify(meta)})`);
    await snap(page, 'since');
  });

  tap.ok(errors.length === 0, 'version diff: no page errors', errors.join('\n'));
  await ctx.close();
}
