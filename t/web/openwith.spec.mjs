// "Open with" external viewers (per file type, from GET
// /api/external-services/), the Contact menu, the Assets Summary card and
// what a pending user sees on /dandiset/create. Called by t/web/run.
import { execFileSync, execSync } from 'node:child_process';
import { join } from 'node:path';
import { Api, uploadAsset, assert, assertEq, screenshot } from './lib.mjs';

export async function run({ base, token, browser, tap, shots }) {
  const api = new Api(base, token);
  const tag = `o${Date.now().toString(36)}`;
  const jobsCmd = process.env.DANDI_JOBS_CMD;
  const snap = (page, name) => screenshot(page, join(shots, `openwith-${name}.png`), { fullPage: true });
  const ids = {};
  const rows = {};

  await tap.test('open with: seed a dandiset with an NWB file, an OME-Zarr, a text file and a contact person', async () => {
    const name = `Open with ${tag}`;
    ids.ds = (await api.post('/api/dandisets/', { name, metadata: {
      name, description: 'Files for the Open With menu.', license: ['spdx:CC-BY-4.0'],
      contributor: [
        { schemaKey: 'Person', name: 'Doe, Jane', email: 'jane@example.org', roleName: ['dcite:ContactPerson', 'dcite:Author'], includeInCitation: true },
        { schemaKey: 'Person', name: 'Roe, Rick', email: 'rick@example.org', roleName: ['dcite:ContactPerson'], includeInCitation: true },
        { schemaKey: 'Person', name: 'Moe, Mo', email: 'mo@example.org', roleName: ['dcite:Author'], includeInCitation: true },
      ],
    } })).identifier;
    await uploadAsset(api, ids.ds, 'sub-01/sub-01_ses-1_ecephys.nwb', Buffer.from(`nwb ${tag}\n`), {
      schemaKey: 'Asset', encodingFormat: 'application/x-nwb',
      wasAttributedTo: [{ schemaKey: 'Participant', identifier: '01',
        species: { schemaKey: 'SpeciesType', identifier: 'http://purl.obolibrary.org/obo/NCBITaxon_10090', name: 'Mus musculus - House mouse' } }],
      wasDerivedFrom: [{ schemaKey: 'BioSample', identifier: 'cell-7', sampleType: { schemaKey: 'SampleType', name: 'cell' } }],
      approach: [{ schemaKey: 'ApproachType', name: 'electrophysiological approach' }],
      measurementTechnique: [{ schemaKey: 'MeasurementTechniqueType', name: 'spike sorting technique' }],
    });
    await uploadAsset(api, ids.ds, 'notes.txt', Buffer.from(`notes ${tag}\n`));
    const z = await api.post('/api/zarr/', { name: 'sample.ome.zarr', dandiset: ids.ds });
    await api.post(`/api/dandisets/${ids.ds}/versions/draft/assets/`, { zarr_id: z.zarr_id, metadata: { path: 'sub-01/sample.ome.zarr' } });
    for (const prefix of ['', 'sub-01']) {
      const r = await api.get(`/api/dandisets/${ids.ds}/versions/draft/assets/paths/`, { query: { path_prefix: prefix } });
      for (const row of r.results) rows[row.path] = row;
    }
    assert(rows['sub-01/sub-01_ses-1_ecephys.nwb'] && rows['sub-01/sample.ome.zarr'] && rows['notes.txt'], 'the three files are listed');
    assert(/^https?:\/\//.test(rows['sub-01/sample.ome.zarr'].asset.url), 'the zarr has its bucket URL');
  });
  if (!ids.ds) return;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(15000);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Opens a menu and returns its links, { text: href }.
  const links = async (menu) => {
    await menu.locator('button').first().click();
    const list = menu.locator('.menu-panel a');
    await list.first().waitFor();
    return Object.fromEntries(await list.evaluateAll((as) => as.map((a) => [a.textContent.trim(), a.href])));
  };
  const apiRoot = `${base}/api/`;

  await tap.test('open with: the landing page offers Neurosift for the dandiset', async () => {
    await page.goto(`/dandiset/${ids.ds}/draft`);
    const menu = page.locator('.side-col .open-with');
    await menu.waitFor();
    assertEq((await menu.locator('button').first().textContent()).replace(/\s+/g, ' ').trim(), `Open With (dandiset ${ids.ds}) ▾`, 'button text (the dandiset said to screen readers)');
    const l = await links(menu);
    assertEq(JSON.stringify(l), JSON.stringify({ Neurosift: `https://neurosift.app/dandiset/${ids.ds}?dandisetVersion=draft` }), 'the original\'s Neurosift link');
    await snap(page, 'landing');
    await page.keyboard.press('Escape');
  });

  await tap.test('open with: an NWB file offers NWB Explorer and Neurosift with the original\'s URL templates', async () => {
    await page.goto(`/dandiset/${ids.ds}/draft/files?location=sub-01/`);
    const row = page.locator('tr.file', { hasText: 'sub-01_ses-1_ecephys.nwb' });
    await row.waitFor();
    const a = rows['sub-01/sub-01_ses-1_ecephys.nwb'].asset;
    const l = await links(row.locator('.open-with'));
    const dl = `${apiRoot}assets/${a.asset_id}/download/`;
    assertEq(JSON.stringify(Object.keys(l).sort()), JSON.stringify(['MetaCell/NWBExplorer', 'Neurosift']), 'viewers for .nwb');
    assertEq(l['MetaCell/NWBExplorer'], `http://nwbexplorer.opensourcebrain.org/nwbfile=${a.url.replace(/\/+$/, '')}`, 'NWB Explorer gets the bucket URL');
    assertEq(l.Neurosift, `https://neurosift.app/nwb?url=${dl}&dandisetId=${ids.ds}&dandisetVersion=draft`, 'Neurosift gets the archive download URL');
    assertEq(await row.locator('.open-with a[target=_blank][rel=noopener]').count(), 2, 'links open in a new tab, no opener');
    await snap(page, 'nwb');
    await page.keyboard.press('Escape');
  });

  await tap.test('open with: an OME-Zarr offers the Zarr viewers (Neuroglancer, OME-Zarr validator, VTK/ITK, NeuroGlass)', async () => {
    const row = page.locator('tr.file', { hasText: 'sample.ome.zarr' });
    await row.waitFor();
    const a = rows['sub-01/sample.ome.zarr'].asset;
    const s3 = a.url.replace(/\/+$/, '');
    const l = await links(row.locator('.open-with'));
    assertEq(JSON.stringify(Object.keys(l).sort()), JSON.stringify(['NeuroGlass', 'Neuroglancer', 'OME Zarr validator', 'VTK/ITK Viewer']), 'viewers for .ome.zarr');
    assertEq(l['OME Zarr validator'], `https://ome.github.io/ome-ngff-validator/?source=${s3}`, 'validator template');
    assertEq(l['VTK/ITK Viewer'], `https://kitware.github.io/itk-vtk-viewer/app/?gradientOpacity=0.3&image=${s3}`, 'VTK/ITK template');
    assertEq(l.NeuroGlass, `https://www.neuroglass.io/new?resource=${apiRoot}assets/${a.asset_id}/`, 'NeuroGlass gets the metadata URL');
    const ng = l.Neuroglancer;
    assert(ng.startsWith('https://neuroglancer-demo.appspot.com/#!'), 'public Neuroglancer instance');
    const state = JSON.parse(decodeURIComponent(ng.slice(ng.indexOf('#!') + 2)));
    assertEq(JSON.stringify(state), JSON.stringify({ layers: [{ type: 'image', source: s3, tab: 'rendering', name: a.asset_id }],
      selectedLayer: { visible: true, layer: a.asset_id }, layout: '4panel' }), 'the original\'s viewer state');
    await page.keyboard.press('Escape');
  });

  await tap.test('open with: other files (a text file, a folder) offer nothing', async () => {
    await page.goto(`/dandiset/${ids.ds}/draft/files?location=`);
    const txt = page.locator('tr.file', { hasText: 'notes.txt' });
    await txt.waitFor();
    await page.locator('tr.file', { hasText: 'notes.txt' }).locator('.row-actions a').first().waitFor();
    assertEq(await txt.locator('.open-with').count(), 0, 'no Open With for .txt');
    assertEq(await page.locator('tr.folder .open-with').count(), 0, 'no Open With for a folder');
  });

  await tap.test('contact: logged out, the contact persons can be mailed, the owners only when logged in', async () => {
    await page.goto(`/dandiset/${ids.ds}/draft`);
    await page.locator('#contact').click();
    const person = page.locator('a.contact-person');
    await person.waitFor();
    const href = await person.getAttribute('href');
    const [to, q] = href.replace(/^mailto:/, '').split('?');
    assertEq(to, 'jane@example.org,rick@example.org', 'the two contact persons, not the author');
    assertEq(new URLSearchParams(q).get('subject'), `Regarding Dandiset ${ids.ds} ("Open with ${tag}")`, 'subject');
    const owners = page.locator('.contact-owners');
    assertEq(await owners.evaluate((e) => e.tagName), 'SPAN', 'owners: not a link');
    assertEq(await owners.getAttribute('aria-disabled'), 'true', 'owners: disabled');
    assert((await owners.textContent()).includes('You must be logged in to contact the owners.'), 'owners: says why');
    await snap(page, 'contact-logged-out');
  });

  await tap.test('contact: logged in, the owners\' addresses', async () => {
    const c2 = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
    await c2.addInitScript((k) => { localStorage.setItem('dandi-api-key', k); }, token);
    const p = await c2.newPage();
    await p.goto(`/dandiset/${ids.ds}/draft`);
    await p.locator('#user-menu').waitFor();
    await p.locator('#contact').click();
    const owners = await api.get(`/api/dandisets/${ids.ds}/users/`);
    const emails = owners.map((o) => o.email).filter(Boolean);
    assert(emails.length > 0, 'the API gives owner e-mails to a signed-in user');
    const href = await p.locator('a.contact-owners').getAttribute('href');
    assertEq(href.replace(/^mailto:/, '').split('?')[0], emails.join(','), 'mailto the owners');
    await c2.close();
  });

  await tap.test('assets summary: subjects, samples/cells, species, approaches, techniques, data standards as the original\'s card', async () => {
    if (!jobsCmd) return tap.skip('assets summary', 'DANDI_JOBS_CMD is not set');
    execSync(`${jobsCmd} run`, { stdio: ['ignore', 'pipe', 'pipe'] });
    const info = await api.get(`/api/dandisets/${ids.ds}/versions/draft/info/`);
    const s = info.metadata.assetsSummary;
    assert(s.numberOfSubjects === 1 && s.numberOfCells === 1, `summary counts ${JSON.stringify(s)} (asset errors ${JSON.stringify(info.asset_validation_errors)})`);
    await page.goto(`/dandiset/${ids.ds}/draft`);
    const card = page.locator('.assets-summary');
    await card.locator('dt').first().waitFor();
    const shown = await card.locator('dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent.trim(),
      [...dt.nextElementSibling.querySelectorAll('li')].map((li) => li.textContent.trim())]));
    const want = { 'Number Of Subjects': ['1'], 'Number Of Cells': ['1'], Approach: ['electrophysiological approach'],
      'Measurement Technique': ['spike sorting technique'], Species: ['Mus musculus - House mouse'],
      'Data Standard': ['Neurodata Without Borders (NWB)'] };
    const got = Object.fromEntries(shown);
    for (const [k, v] of Object.entries(want)) assertEq(JSON.stringify(got[k]), JSON.stringify(v), k);
    assert(!('Number Of Bytes' in got) && !('Number Of Files' in got) && !('Schema Key' in got), 'bytes, files and schemaKey not repeated');
    assertEq(await card.locator('a[href="http://purl.obolibrary.org/obo/NCBITaxon_10090"]').count(), 1, 'species links its identifier');
    await snap(page, 'summary');
  });

  await tap.test('create: a pending user sees why they cannot register a dandiset yet', async () => {
    if (!jobsCmd) return tap.skip('pending user', 'DANDI_JOBS_CMD is not set (dandi-admin is found beside it)');
    const admin = jobsCmd.split(' ')[0].replace(/dandi-jobs$/, 'dandi-admin');
    const user = `pend${tag}`;
    execFileSync(admin, ['create-user', '--username', user, '--email', `${user}@example.org`, '--first', 'Pat', '--last', 'Pending', '--status', 'PENDING']);
    const key = execFileSync(admin, ['create-token', '--username', user]).toString().trim();
    const c3 = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
    await c3.addInitScript((k) => { localStorage.setItem('dandi-api-key', k); }, key);
    const p = await c3.newPage();
    await p.goto('/dandiset/create');
    const why = p.locator('.create-blocked [role=status]');
    await why.waitFor();
    assert((await why.textContent()).includes('pending approval'), 'says the account is pending approval');
    assertEq(await p.locator('#create-name').count(), 0, 'no form to fill');
    assertEq(await p.getByRole('heading', { level: 1 }).textContent(), 'Register a new Dandiset', 'the page heading');
    const r = await api.req('POST', '/api/dandisets/', { name: 'x', metadata: { name: 'x' } }, { token: key });
    assertEq(r.status, 403, 'and the API refuses a pending user, which is why');
    await screenshot(p, join(shots, 'openwith-create-pending.png'), { fullPage: true });
    await c3.close();
  });

  await tap.test('open with: no page errors', async () => {
    assert(errors.length === 0, errors.join('\n'));
  });
  await ctx.close();
}
