// The asset search page (/search): facets for file size, file type,
// genotype and species over the asset_search view, which `dandi-jobs
// refresh-search` (DANDI_JOBS_CMD) rebuilds after seeding; results list
// the dandisets with how many assets matched each facet.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { Api, uploadAsset, assert, assertEq, screenshot } from './lib.mjs';

export async function run({ base, token, browser, tap, shots }) {
  const jobsCmd = process.env.DANDI_JOBS_CMD;
  if (!jobsCmd) {
    tap.ok(true, 'search: skipped, DANDI_JOBS_CMD is not set');
    return;
  }
  const api = new Api(base, token);
  const tag = `s${Date.now().toString(36)}`;
  const mouse = `Mus ${tag}`;
  const rat = `Rattus ${tag}`;
  const subject = (species, genotype) => ({ wasAttributedTo: [{ schemaKey: 'Participant', identifier: 'sub-1', species: { schemaKey: 'SpeciesType', name: species }, ...(genotype ? { genotype } : {}) }] });
  const ids = {};

  await tap.test('search: seed two dandisets with NWB, image and text assets of two species, refresh the view', async () => {
    ids.a = (await api.post('/api/dandisets/', { name: `Search A ${tag}`, metadata: { name: `Search A ${tag}` } })).identifier;
    ids.b = (await api.post('/api/dandisets/', { name: `Search B ${tag}`, metadata: { name: `Search B ${tag}` } })).identifier;
    await uploadAsset(api, ids.a, 'sub-1/a.nwb', Buffer.from(`nwb ${tag}\n`), { schemaKey: 'Asset', encodingFormat: 'application/x-nwb', ...subject(mouse, `geno-${tag}`) });
    await uploadAsset(api, ids.a, 'sub-1/a.png', Buffer.alloc(5000, 1), { schemaKey: 'Asset', encodingFormat: 'image/png', ...subject(mouse) });
    await uploadAsset(api, ids.b, 'sub-2/b.txt', Buffer.from(`text ${tag}\n`), { schemaKey: 'Asset', encodingFormat: 'text/plain', ...subject(rat) });
    execSync(`${jobsCmd} refresh-search`, { stdio: ['ignore', 'pipe', 'pipe'] });
  });
  if (!ids.b) return;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(20000);
  await ctx.addInitScript((k) => { if (!localStorage.getItem('dandi-api-key')) localStorage.setItem('dandi-api-key', k); }, token);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const count = async () => Number(await page.getByTestId('result-count').textContent());
  const settled = () => page.waitForFunction(() => document.querySelector('.results').getAttribute('aria-busy') === 'false');
  const counts = async (id) => (await page.locator(`[data-counts="${id}"] span`).allTextContents()).join(' | ');

  await tap.test('search: species facet finds the one dandiset with that species, counting its assets', async () => {
    await page.goto('/search');
    await page.getByRole('heading', { name: 'Search Assets' }).waitFor();
    await page.locator(`#species option[value="${mouse}"]`).waitFor({ state: 'attached' });
    await page.getByLabel('Species', { exact: true }).selectOption(mouse);
    await page.waitForFunction((id) => !!document.querySelector(`[data-counts="${id}"]`), ids.a);
    await settled();
    assertEq(await count(), 1, 'one dandiset');
    assertEq(await counts(ids.a), '2 assets matching species', 'both of its assets have the species');
    await page.getByRole('link', { name: `Search A ${tag}` }).waitFor();
  });

  await tap.test('search: file type and genotype narrow it, each with its own count', async () => {
    await page.getByRole('checkbox', { name: /NWB/ }).check();
    await page.getByLabel('Genotype', { exact: true }).fill(`geno-${tag}`);
    await page.waitForFunction((id) => (document.querySelector(`[data-counts="${id}"]`) || {}).textContent?.includes('genotype'), ids.a);
    await settled();
    assertEq(await count(), 1, 'still one');
    assertEq(await counts(ids.a), '1 asset matching file type | 1 asset matching genotype | 2 assets matching species', 'counts per facet');
    await screenshot(page, join(shots, 'search-facets.png'), { fullPage: true });
  });

  await tap.test('search: other species and type; a size no file has finds nothing', async () => {
    await page.getByLabel('Genotype', { exact: true }).fill('');
    await page.getByRole('checkbox', { name: /NWB/ }).uncheck();
    await page.getByRole('checkbox', { name: /Text/ }).check();
    await page.getByLabel('Species', { exact: true }).selectOption(rat);
    await page.waitForFunction((id) => !!document.querySelector(`[data-counts="${id}"]`), ids.b);
    await settled();
    assertEq(await count(), 1, 'the text dandiset');
    assertEq(await counts(ids.b), '1 asset matching file type | 1 asset matching species', 'its counts');
    await page.getByLabel('Min', { exact: true }).fill('1000000000');
    await page.getByText('No dandisets have assets matching these filters.').waitFor();
    assertEq(await count(), 0, 'nothing that large');
    await page.setViewportSize({ width: 390, height: 800 });
    await screenshot(page, join(shots, 'search-phone.png'), { fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `no sideways scrolling at phone width (${overflow}px)`);
  });

  await tap.test('search: no page errors', async () => {
    assertEq(errors.join(' | '), '', 'page errors');
  });
  await ctx.close();
}
