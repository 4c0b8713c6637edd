// Browser tests of the web app against a running archive: seeds data
// through the API, then drives headless Chromium through the pages a user
// would visit. Called by t/web/run with { base, token, browser, tap, shots }.
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Api, uploadAsset, assert, assertEq, screenshot } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

export async function run({ base, token, browser, tap, shots }) {
  const api = new Api(base, token);
  const tag = `w${Date.now().toString(36)}`;
  const ptag = `p${tag.slice(1)}`; // for the paging fillers: not a match for tag
  const names = { mouse: `Mouse visual cortex ${tag}`, fish: `Zebrafish whole-brain imaging ${tag}`, rat: `Rat hippocampus ${tag}` };
  const bytes = Buffer.from(`NWB-ish test payload ${tag}\n${'0123456789abcdef'.repeat(64)}\n`);
  const seeded = {};
  let shot = 0;
  const snap = async (page, name) => {
    shot++;
    await screenshot(page, join(shots, `${String(shot).padStart(2, '0')}-${name}.png`), { fullPage: true });
  };

  // ---- seed data through the API
  await tap.test('seed: dandisets and uploaded files through the API', async () => {
    // Fillers first, so the named ones are the most recently modified.
    for (let i = 1; i <= 9; i++) {
      const name = `Filler ${i} ${ptag}`;
      await api.post('/api/dandisets/', { name, metadata: { name, description: 'A filler for paging.', license: ['spdx:CC0-1.0'] } });
    }
    for (const [k, name] of Object.entries(names)) {
      const d = await api.post('/api/dandisets/', {
        name,
        metadata: { name, description: `**${name}**: a dataset made by the browser tests.\n\nIt has *markdown* and a [link](https://dandiarchive.org).`, license: ['spdx:CC0-1.0'], keywords: ['test', k] },
      });
      seeded[k] = d.identifier;
    }
    const a1 = await uploadAsset(api, seeded.mouse, 'sub-01/sub-01_ses-1_ecephys.nwb', bytes);
    const a2 = await uploadAsset(api, seeded.mouse, 'README.txt', Buffer.from(`readme ${tag}\n`));
    seeded.assetId = a1.asset_id;
    assert(a1.asset_id && a2.asset_id, 'assets created');
    const info = await api.get(`/api/dandisets/${seeded.mouse}/versions/draft/info/`);
    assertEq(info.asset_count, 2, 'asset count after upload');
  });
  if (!seeded.assetId) return;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, baseURL: base });
  ctx.setDefaultTimeout(15000);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await tap.test('home page: title, search box and archive statistics', async () => {
    // The counts come from `dandi-jobs stats` (a timer in production).
    if (process.env.DANDI_STATS_CMD) execSync(process.env.DANDI_STATS_CMD, { stdio: 'ignore' });
    await page.goto('/');
    await page.getByRole('heading', { name: 'The DANDI Archive' }).waitFor();
    await page.waitForFunction(() => document.querySelector('[data-stat=dandisets]').textContent.trim() !== '—');
    const n = Number(await page.locator('[data-stat=dandisets]').textContent());
    assert(n >= 3, `dandiset count ${n} >= 3`);
    assert(await page.getByRole('combobox', { name: 'Search dandisets' }).isVisible(), 'search box');
    assertEq(await page.title(), 'DANDI Archive', 'title');
    await snap(page, 'home');
  });

  await tap.test('public dandisets list shows the seeded dandisets with chips and facts', async () => {
    await page.getByRole('link', { name: 'Public Dandisets' }).first().click();
    await page.waitForURL(/\/dandiset(\?|$)/);
    // The public list hides empty dandisets unless "Empty Dandisets" is on.
    assertEq(await page.getByRole('link', { name: names.rat }).count(), 0, 'empty dandiset hidden');
    const item = page.locator('.ds-item', { has: page.getByRole('link', { name: names.mouse }) });
    await item.waitFor();
    const text = await item.textContent();
    assert(text.includes('DRAFT'), 'draft chip');
    assert(text.includes(`DANDI:${seeded.mouse}`), 'identifier');
    assert(text.includes('2 files'), `file count in "${text}"`);
    assertEq(await page.title(), 'Public Dandisets - DANDI Archive', 'title');
    await snap(page, 'public-list');
    await page.getByRole('button', { name: 'List settings' }).click();
    await page.getByLabel('Empty Dandisets').check();
    await page.waitForURL(/empty=true/);
    await page.getByRole('link', { name: names.rat }).waitFor();
  });

  await tap.test('search with ?search= finds one dandiset; operator suggestions open', async () => {
    const box = page.getByRole('combobox', { name: 'Search dandisets' });
    await box.fill('');
    await box.focus();
    await page.locator('.operator-suggestions').waitFor({ state: 'visible' });
    const ops = await page.locator('.operator-suggestions [role=option]').count();
    assertEq(ops, 11, 'operators offered for an empty token');
    await box.fill(`zebrafish ${tag}`);
    await box.press('Escape');
    await box.press('Enter');
    await page.waitForURL(/\/dandiset\/search\?search=/);
    await page.getByText('1 result found').waitFor();
    await page.getByRole('link', { name: names.fish }).waitFor();
    assertEq(await page.locator('.ds-item').count(), 1, 'one item');
    await snap(page, 'search');
  });

  await tap.test('search operators: picked from the suggestions, they filter the list; a bad one shows the message', async () => {
    const box = page.getByRole('combobox', { name: 'Search dandisets' });
    await page.goto('/');
    await box.click();
    await box.fill(`${tag} created_bef`);
    await page.locator('.operator-suggestions [role=option]', { hasText: 'created_before:' }).waitFor();
    await box.press('Enter'); // the first match is highlighted while a key is typed
    assertEq(await box.inputValue(), `${tag} created_before:`, 'Enter inserts the operator');
    await page.keyboard.type('2000-01-01');
    // typed straight after the insert: the caret stayed after the operator
    assertEq(await box.inputValue(), `${tag} created_before:2000-01-01`, 'keys typed after the insert follow it');
    await box.press('Enter');
    await page.waitForURL(/search=.*created_before/);
    await page.getByText('0 results found').waitFor();
    await page.getByText('No results!').waitFor();
    // the same words with a bound they all meet: all three
    await box.fill(`${tag} created_after:2000-01-01`);
    await box.press('Enter');
    await page.getByText('3 results found').waitFor();
    await box.fill(`zebrafish created_after:2000-1-1 ${tag}`);
    await box.press('Enter');
    await page.getByText('1 result found').waitFor();
    await page.getByRole('link', { name: names.fish }).waitFor();
    // an unknown operator: the server's 400 message instead of a list
    await box.fill(`${tag} specie:mouse`); // a word with a colon: no suggestions, Enter searches
    await box.press('Enter');
    const alert = page.getByRole('alert').filter({ hasText: 'Unknown search operator' });
    await alert.waitFor();
    assertEq(await alert.textContent(), 'Unknown search operator "specie". Did you mean "species"? Wrap the term in double quotes (e.g. "foo:bar") to search for it as text.', 'the message');
    assertEq(await page.locator('.ds-item').count(), 0, 'no list');
    await snap(page, 'search-operator-error');
  });

  await tap.test('sorting by name ascending and descending (?ordering=)', async () => {
    await page.goto(`/dandiset/search?search=${tag}&ordering=name`);
    await page.getByText('3 results found').waitFor();
    const asc = await page.locator('.ds-name').allTextContents();
    assertEq(JSON.stringify(asc), JSON.stringify([names.mouse, names.rat, names.fish]), 'ascending');
    await page.getByRole('button', { name: /Ascending order/ }).click();
    await page.waitForURL(/ordering=-name/);
    await page.waitForFunction((first) => document.querySelector('.ds-name') && document.querySelector('.ds-name').textContent === first, names.fish);
    await page.getByLabel('Sort by').selectOption('id');
    await page.waitForURL(/ordering=-id/);
  });

  await tap.test('paging: 9 results over two pages of 8 (?page=)', async () => {
    await page.goto(`/dandiset/search?search=${ptag}&ordering=name`);
    await page.getByText('9 results found').waitFor();
    assertEq(await page.locator('.ds-item').count(), 8, 'page 1 has 8');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForURL(/page=2/);
    await page.waitForFunction(() => document.querySelectorAll('.ds-item').length === 1);
    assertEq(await page.locator('.ds-name').textContent(), `Filler 9 ${ptag}`, 'last one on page 2');
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.ds-item').length === 8);
  });

  await tap.test('landing page: name, description, facts, license, citation, CLI download command', async () => {
    await page.goto(`/dandiset/search?search=${tag}&ordering=name`);
    await page.getByRole('link', { name: names.mouse }).click();
    await page.waitForURL(new RegExp(`/dandiset/${seeded.mouse}`));
    await page.getByRole('heading', { level: 1, name: names.mouse }).waitFor();
    assertEq(await page.locator('[data-fact=files]').textContent(), '2', 'file count');
    const dl = (await api.get(`/api/stats/downloads/?dandiset=${seeded.mouse}`)).results[0].download_count;
    assertEq(await page.locator('[data-fact=downloads]').textContent(), dl.toLocaleString('en-US'), 'downloads as the API counts them');
    const body = await page.locator('.header-card').textContent();
    assert(body.includes('Licenses: spdx:CC0-1.0'), 'license');
    const contact = (await api.get(`/api/dandisets/${seeded.mouse}/`)).contact_person;
    assert(contact && body.includes(`Contact ${contact}`), `contact person ${contact}`);
    assert(await page.locator('.description strong', { hasText: names.mouse }).count() === 1, 'markdown rendered');
    await page.locator('#download').click();
    const cmd = await page.locator('.cli-command').textContent();
    assertEq(cmd, `dandi download ${base}/dandiset/${seeded.mouse}/draft`, 'CLI command');
    await page.keyboard.press('Escape');
    await page.getByRole('tab', { name: 'How to Cite' }).click();
    const cite = await page.locator('.citation').textContent();
    assert(cite.includes(names.mouse), 'citation has the name');
    await snap(page, 'landing-cite');
    await page.getByRole('tab', { name: 'Overview' }).click();
    await snap(page, 'landing');
  });

  await tap.test('file browser: walk into a folder and back, sizes shown', async () => {
    await page.locator('#view-data').click();
    await page.waitForURL(/\/files/);
    const folder = page.getByRole('button', { name: /sub-01/ });
    await folder.waitFor();
    await page.getByRole('link', { name: 'README.txt', exact: true }).waitFor();
    await snap(page, 'files-root');
    await folder.click();
    await page.waitForURL(/location=sub-01%2F|location=sub-01\//);
    const row = page.locator('tr.file', { hasText: 'sub-01_ses-1_ecephys.nwb' });
    await row.waitFor();
    const size = (await row.locator('td.num').textContent()).trim();
    assertEq(size, `${(bytes.length / 1000).toFixed(1)} kB`, 'size');
    await page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'sub-01' }).waitFor();
    await snap(page, 'files-folder');
  });

  await tap.test('download a file from the file browser: same bytes as uploaded', async () => {
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download sub-01_ses-1_ecephys.nwb' }).click(),
    ]);
    const path = await dl.path();
    const got = readFileSync(path);
    assert(got.equals(bytes), `downloaded ${got.length} bytes, uploaded ${bytes.length}`);
    assertEq(dl.suggestedFilename(), 'sub-01_ses-1_ecephys.nwb', 'file name');
  });

  await tap.test('file browser: ".." goes up; asset metadata link answers JSON', async () => {
    const href = await page.getByRole('link', { name: 'Metadata of sub-01_ses-1_ecephys.nwb' }).getAttribute('href');
    const md = await api.req('GET', href);
    assertEq(md.status, 200, 'metadata link status');
    assertEq(md.json.path, 'sub-01/sub-01_ses-1_ecephys.nwb', 'metadata path');
    await page.getByRole('button', { name: 'Up to the parent folder' }).click();
    await page.getByRole('link', { name: 'README.txt', exact: true }).waitFor();
  });

  await tap.test('unknown dandiset shows "Dandiset does not exist"; legacy #/ URL is rewritten', async () => {
    await page.goto('/dandiset/999999');
    await page.getByText('Error: Dandiset does not exist').waitFor();
    await page.goto(`/#/dandiset/${seeded.fish}/draft`);
    await page.waitForURL(new RegExp(`/dandiset/${seeded.fish}/draft$`));
    await page.getByRole('heading', { level: 1, name: names.fish }).waitFor();
  });

  await tap.test('logged out: no My Dandisets, star is read-only, no edit', async () => {
    assertEq(await page.getByRole('link', { name: 'My Dandisets' }).count(), 0, 'no My Dandisets link');
    assert(await page.locator('.star-btn').first().isDisabled(), 'star disabled');
    assertEq(await page.locator('#publish').count(), 0, 'no publish button');
  });

  await tap.test('log in with an API key; user menu shows the key', async () => {
    await page.locator('#login').click();
    await page.getByRole('dialog', { name: 'Log in to DANDI' }).waitFor();
    await snap(page, 'login-dialog');
    await page.getByLabel('API key', { exact: true }).fill('0000000000000000000000000000000000000000');
    await page.getByRole('button', { name: 'Log in with API key' }).click();
    await page.getByRole('alert').filter({ hasText: 'did not accept' }).waitFor();
    await page.getByLabel('API key', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Log in with API key' }).click();
    await page.locator('#user-menu').waitFor();
    await page.getByRole('link', { name: 'My Dandisets' }).waitFor();
    await page.locator('#user-menu').click();
    const field = page.getByLabel('API Key', { exact: true });
    await page.waitForFunction(() => document.getElementById('user-api-key') && document.getElementById('user-api-key').value !== '');
    assertEq(await field.inputValue(), token, 'API key in the menu');
    const stored = await page.evaluate(() => localStorage.getItem('dandi-api-key'));
    assertEq(stored, token, 'key kept in localStorage');
    await snap(page, 'user-menu');
    await page.keyboard.press('Escape');
  });

  await tap.test('star a dandiset from its landing page; it shows on Starred Dandisets', async () => {
    await page.goto(`/dandiset/${seeded.rat}`);
    const star = page.locator('.header-card .star-btn');
    await star.waitFor();
    assertEq(await star.getAttribute('aria-pressed'), 'false', 'not starred yet');
    await star.click();
    await page.waitForFunction(() => document.querySelector('.header-card .star-btn').getAttribute('aria-pressed') === 'true');
    assertEq((await star.locator('.star-count').textContent()).trim(), '1', 'count');
    const d = await api.get(`/api/dandisets/${seeded.rat}/`);
    assertEq(d.is_starred, true, 'API says starred');
    await page.getByRole('link', { name: 'Starred Dandisets' }).click();
    await page.getByRole('link', { name: names.rat }).waitFor();
    await snap(page, 'starred');
  });

  let created = null;
  await tap.test('create a dandiset with the form; it opens its landing page', async () => {
    await page.locator('#new-dandiset').click();
    await page.waitForURL(/\/dandiset\/create/);
    const submit = page.getByRole('button', { name: 'Register Dandiset' });
    assert(await submit.isDisabled(), 'disabled while empty');
    await page.getByLabel('Title').fill(`Created in the browser ${tag}`);
    await page.getByLabel('Description').fill('A dandiset created by the browser tests through the form.');
    await page.getByLabel('License').selectOption('spdx:CC-BY-4.0');
    await snap(page, 'create');
    await submit.click();
    await page.waitForURL(/\/dandiset\/\d{6}$/);
    created = page.url().match(/(\d{6})$/)[1];
    await page.getByRole('heading', { level: 1, name: `Created in the browser ${tag}` }).waitFor();
    const md = await api.get(`/api/dandisets/${created}/versions/draft/`);
    assertEq(md.license[0], 'spdx:CC-BY-4.0', 'license saved');
    const mine = await api.get('/api/dandisets/', { query: { user: 'me', search: tag } });
    assert(mine.results.some((x) => x.identifier === created), 'in my dandisets');
  });

  await tap.test('My Dandisets lists the created dandiset', async () => {
    await page.getByRole('link', { name: 'My Dandisets' }).click();
    await page.waitForURL(/\/dandiset\/my/);
    await page.getByRole('link', { name: `Created in the browser ${tag}` }).waitFor();
  });

  await tap.test('create an embargoed dandiset: award query parameters, embargo banner, hidden from others', async () => {
    await page.goto('/dandiset/create');
    await page.getByLabel('Embargo this Dandiset').check();
    await page.getByLabel('Title').fill(`Embargoed in the browser ${tag}`);
    await page.getByLabel('Description').fill('An embargoed dandiset made by the browser tests.');
    await page.getByLabel('Funding source').fill('Test Foundation');
    await page.getByLabel('Grant/Award number').fill('TF-42');
    const end = new Date(Date.now() + 365 * 86400e3).toISOString().slice(0, 10);
    await page.getByLabel('Grant end date').fill(end);
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && /\/api\/dandisets\/\?/.test(r.url())),
      page.getByRole('button', { name: 'Register Dandiset' }).click(),
    ]);
    const q = new URL(req.url()).searchParams;
    assertEq(q.get('embargo'), 'true', 'embargo=true');
    assertEq(q.get('funding_source'), 'Test Foundation', 'funding_source');
    assertEq(q.get('award_number'), 'TF-42', 'award_number');
    assertEq(q.get('embargo_end_date'), end, 'embargo_end_date');
    await page.waitForURL(/\/dandiset\/\d{6}$/);
    const emb = page.url().match(/(\d{6})$/)[1];
    await page.locator('.embargo-banner').waitFor();
    await snap(page, 'embargoed-landing');
    assertEq((await api.get(`/api/dandisets/${emb}/`)).embargo_status, 'EMBARGOED', 'API status');
    const anon = await browser.newContext({ baseURL: base });
    const p = await anon.newPage();
    await p.goto(`/dandiset/${emb}`);
    await p.getByRole('heading', { name: 'This Dandiset is Embargoed' }).waitFor();
    await anon.close();
  });

  await tap.test('a pending user sees the approval banner and cannot create dandisets', async () => {
    const c = await browser.newContext({ baseURL: base });
    const p = await c.newPage();
    await p.route('**/api/users/me/', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ username: 'pat', name: 'Pat Pending', admin: false, status: 'PENDING' }) }));
    await p.goto('/');
    await p.locator('#login').click();
    await p.getByLabel('API key', { exact: true }).fill('pending-user-key');
    await p.getByRole('button', { name: 'Log in with API key' }).click();
    await p.getByText('Your DANDI account is pending approval').waitFor();
    assertEq(await p.locator('#user-menu').textContent(), 'PP', 'initials');
    assertEq(await p.locator('#new-dandiset').count(), 0, 'no New Dandiset link');
    assertEq(await p.locator('.bar-right [aria-disabled=true]').textContent(), 'New Dandiset', 'disabled New Dandiset');
    await p.locator('#user-menu').click();
    assertEq(await p.locator('#user-api-key').count(), 0, 'no API key row');
    await screenshot(p, join(shots, 'pending-user.png'));
    await c.close();
  });

  await tap.test('metadata editor without a schema: JSON fallback, edit, save', async () => {
    await page.route('**/api/schemas/**', (r) => r.fulfill({ status: 404, contentType: 'application/json', body: '{"detail":"Not found."}' }));
    await page.goto(`/dandiset/${created}/draft/metadata`);
    await page.getByText('The metadata schema could not be loaded').waitFor();
    const ta = page.getByLabel('Dandiset metadata (JSON)');
    const md = JSON.parse(await ta.inputValue());
    await ta.fill('{ not json');
    await page.getByText('Not valid JSON').waitFor();
    md.description = `Edited as JSON ${tag}`;
    md.keywords = ['json-edit'];
    await ta.fill(JSON.stringify(md, null, 2));
    await snap(page, 'meditor-json');
    await page.locator('#meditor-save').click();
    await page.getByText('Metadata saved.').waitFor();
    const got = await api.get(`/api/dandisets/${created}/versions/draft/`);
    assertEq(got.description, `Edited as JSON ${tag}`, 'description saved');
    assertEq(JSON.stringify(got.keywords), '["json-edit"]', 'keywords saved');
    await page.unroute('**/api/schemas/**');
  });

  await tap.test('metadata editor with the schema: form validation, undo, save', async () => {
    const schema = readFileSync(join(HERE, 'fixtures/dandiset-schema-0.6.9.json'));
    await page.route('**/api/schemas/**', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: schema }));
    await page.goto('/');
    await page.goto(`/dandiset/${created}/draft/metadata`);
    await page.getByRole('tab', { name: 'General' }).waitFor();
    assert(await page.getByRole('tab', { name: /Dandiset contributors|Contributors/i }).count() === 1, 'contributor tab');
    const desc = page.getByLabel('Description', { exact: false }).first();
    assertEq(await desc.inputValue(), `Edited as JSON ${tag}`, 'form shows the saved description');
    await page.getByText('All metadata for this dandiset is valid.').waitFor();
    await desc.fill('');
    await page.getByText('There are errors in the metadata for this Dandiset.').waitFor();
    await page.locator('#mf-description-err').getByText('description: required information').waitFor();
    await snap(page, 'meditor-invalid');
    await page.getByRole('button', { name: 'Undo' }).click();
    assertEq(await desc.inputValue(), `Edited as JSON ${tag}`, 'undo restores');
    await page.getByRole('button', { name: 'Redo' }).click();
    assertEq(await desc.inputValue(), '', 'redo clears again');
    await desc.fill(`Edited in the form ${tag}`);
    await page.getByLabel('Keywords').fill('form-edit\nsecond');
    await page.getByLabel('Keywords').blur();
    await page.getByText('All metadata for this dandiset is valid.').waitFor();
    await snap(page, 'meditor-form');
    await page.locator('#meditor-save').click();
    await page.getByText('Metadata saved.').waitFor();
    const got = await api.get(`/api/dandisets/${created}/versions/draft/`);
    assertEq(got.description, `Edited in the form ${tag}`, 'description saved');
    assertEq(JSON.stringify(got.keywords), '["form-edit","second"]', 'keywords saved');
    await page.unroute('**/api/schemas/**');
  });

  await tap.test('owner deletes a file in the file browser', async () => {
    await uploadAsset(api, created, 'data/to-delete.txt', Buffer.from(`delete me ${tag}\n`));
    await page.goto(`/dandiset/${created}/draft/files?location=data/`);
    await page.getByRole('button', { name: 'Delete to-delete.txt' }).click();
    await page.getByRole('dialog', { name: 'Really delete this asset?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted to-delete.txt.').waitFor();
    const list = await api.get(`/api/dandisets/${created}/versions/draft/assets/`);
    assertEq(list.results.length, 0, 'no assets left');
  });

  await tap.test('every form control on the main pages has an accessible name', async () => {
    const unlabeled = [];
    for (const url of ['/', '/dandiset', `/dandiset/${seeded.mouse}`, `/dandiset/${seeded.mouse}/draft/files`, '/dandiset/create']) {
      await page.goto(url);
      await page.waitForLoadState('networkidle');
      const bad = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => {
          const name = (el.getAttribute('aria-label') || (el.labels && [...el.labels].map((l) => l.textContent).join('')) || el.textContent || el.getAttribute('title') || '').trim();
          return !name && !el.getAttribute('aria-labelledby');
        })
        .map((el) => el.outerHTML.slice(0, 120)));
      unlabeled.push(...bad.map((b) => `${url}: ${b}`));
    }
    assert(unlabeled.length === 0, `unlabelled controls:\n${unlabeled.join('\n')}`);
  });

  await tap.test('narrow screen: menu button, landing page stacks', async () => {
    const m = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: base });
    const p = await m.newPage();
    await p.goto(`/dandiset/${seeded.mouse}`);
    await p.getByRole('heading', { level: 1, name: names.mouse }).waitFor();
    const toggle = p.getByRole('button', { name: 'Menu' });
    assert(await toggle.isVisible(), 'menu button visible');
    assert(!(await p.getByRole('link', { name: 'Public Dandisets' }).isVisible()), 'nav collapsed');
    await toggle.click();
    assert(await p.getByRole('link', { name: 'Public Dandisets' }).isVisible(), 'nav open');
    const scrollW = await p.evaluate(() => document.documentElement.scrollWidth);
    assert(scrollW <= 390, `no horizontal scrolling (scrollWidth ${scrollW})`);
    await screenshot(p, join(shots, 'mobile-landing.png'), { fullPage: true });
    await m.close();
  });

  await tap.test('logout returns to the Log In button', async () => {
    await page.goto('/');
    await page.locator('#user-menu').click();
    await page.locator('#logout').click();
    await page.locator('#login').waitFor();
    assertEq(await page.evaluate(() => localStorage.getItem('dandi-api-key')), null, 'key removed');
  });

  await tap.test('no uncaught page errors', async () => {
    assert(errors.length === 0, errors.join('\n'));
  });
  await ctx.close();
}
