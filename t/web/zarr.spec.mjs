// Zarr archives in the web app: a draft with a zarr asset may be published
// (the Publish button is enabled, no zarr warning); after the publish the
// draft zarr changes, and the file browser of the published version opens
// the zarr as published (its snapshot: the original files, checksum and
// download links that bring the original bytes), the draft's the live one.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { Api, assert, assertEq, screenshot } from './lib.mjs';

export async function run({ base, token, browser, tap, shots }) {
  const jobsCmd = process.env.DANDI_JOBS_CMD;
  if (!jobsCmd) {
    tap.ok(true, 'zarr: skipped, DANDI_JOBS_CMD is not set');
    return;
  }
  const jobs = (what = 'run') => execSync(`${jobsCmd} ${what}`, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const api = new Api(base, token);
  const tag = `z${Date.now().toString(36)}`;
  const md = {
    name: `Zarr imaging ${tag}`, description: `A zarr the browser tests publish (${tag}).`, license: ['spdx:CC-BY-4.0'],
    contributor: [{ schemaKey: 'Person', name: 'Smith, Alice', email: 'alice@example.org', roleName: ['dcite:ContactPerson'], includeInCitation: true }],
  };
  // Files through the presigned PUT URLs, with Content-MD5 as dandi-cli sends it.
  const upload = async (zid, files) => {
    const paths = Object.keys(files);
    const md5 = (p) => createHash('md5').update(files[p]).digest('base64');
    const urls = await api.post(`/api/zarr/${zid}/files/`, paths.map((p) => ({ path: p, base64md5: md5(p) })));
    for (let i = 0; i < paths.length; i++) {
      const res = await fetch(urls[i], { method: 'PUT', headers: { 'Content-MD5': md5(paths[i]) }, body: files[paths[i]] });
      assertEq(res.status, 200, `PUT ${paths[i]}`);
    }
    await api.post(`/api/zarr/${zid}/finalize/`);
    jobs('run');
  };
  const original = { '.zgroup': '{"zarr_format":2}', '0/.zarray': '{"chunks":[2]}', '0/0': `chunk zero ${tag}`, '0/1': `chunk one ${tag}` };
  const ids = {};

  await tap.test('zarr: a draft with a zarr asset can be published', async () => {
    ids.ds = (await api.post('/api/dandisets/', { name: md.name, metadata: md })).identifier;
    ids.zarr = (await api.post('/api/zarr/', { name: 'img.zarr', dandiset: ids.ds })).zarr_id;
    await upload(ids.zarr, original);
    await api.post(`/api/dandisets/${ids.ds}/versions/draft/assets/`, { zarr_id: ids.zarr, metadata: { schemaKey: 'Asset', path: 'img.zarr' } });
    jobs('run');
    assertEq((await api.get(`/api/dandisets/${ids.ds}/versions/draft/info/`)).status, 'Valid', 'draft Valid');
  });
  if (!ids.zarr) return;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(15000);
  await ctx.addInitScript((t) => { localStorage.setItem('dandi-api-key', t); }, token);
  const page = await ctx.newPage();

  await tap.test('zarr: the landing page enables Publish (no zarr warning)', async () => {
    await page.goto(`/dandiset/${ids.ds}`);
    await page.locator('#publish').waitFor();
    assert(await page.locator('#publish').isEnabled(), 'Publish enabled');
    assertEq(await page.getByText(/Zarr archives cannot/).count(), 0, 'no zarr warning');
  });

  await tap.test('zarr: published, then the draft zarr changes', async () => {
    const r = await api.req('POST', `/api/dandisets/${ids.ds}/versions/draft/publish/`);
    assertEq(r.status, 202, 'publish accepted');
    jobs('run');
    jobs('run');
    const vs = (await api.get(`/api/dandisets/${ids.ds}/versions/`)).results.filter((v) => v.version !== 'draft');
    assertEq(vs.length, 1, 'one published version');
    ids.version = vs[0].version;
    await upload(ids.zarr, { '0/0': `chunk zero, changed ${tag}`, added: `added after the publish ${tag}` });
    assertEq((await api.get(`/api/zarr/${ids.zarr}/`)).file_count, 5, 'the draft zarr has 5 files now');
  });

  await tap.test('zarr: the published version\'s file browser opens the zarr as published', async () => {
    await page.goto(`/dandiset/${ids.ds}/${ids.version}/files`);
    await page.locator('.zarr-link').click();
    await page.waitForURL(new RegExp(`/dandiset/${ids.ds}/${ids.version.replace(/\./g, '\\.')}/zarr/${ids.zarr}`));
    const frozen = await api.get(`/api/zarr/${ids.zarr}/`, { query: { version: ids.version } });
    await page.locator('.zarr-summary').waitFor();
    const summary = await page.locator('.zarr-summary').textContent();
    assert(summary.includes(`As published in version ${ids.version}`) && summary.includes(frozen.checksum), `summary: ${summary}`);
    assertEq(await page.locator('tr.file').filter({ hasText: 'added' }).count(), 0, 'no file added after the publish');
    await page.locator('tr.folder').filter({ hasText: '0' }).getByRole('button').click();
    const link = page.getByRole('link', { name: 'Download 0', exact: true });
    await link.waitFor();
    assertEq(await page.getByRole('link', { name: 'Download 1', exact: true }).count(), 1, 'its sibling 0/1 too');
    const href = await link.getAttribute('href');
    assert(href.includes(`version=${encodeURIComponent(ids.version)}`) || href.includes(`version=${ids.version}`), `download link names the version: ${href}`);
    const got = await fetch(new URL(href, base)).then((x) => x.text());
    assertEq(got, original['0/0'], 'the download brings the original bytes');
    await screenshot(page, join(shots, 'zarr-published.png'), { fullPage: true });
  });

  await tap.test('zarr: the draft\'s opens the live zarr', async () => {
    await page.goto(`/dandiset/${ids.ds}/draft/zarr/${ids.zarr}`);
    await page.locator('.zarr-summary').waitFor();
    assert((await page.locator('.zarr-summary').textContent()).includes('The draft (live) zarr'), 'live');
    await page.locator('tr.file').filter({ hasText: 'added' }).waitFor();
  });
  await ctx.close();
}
