// Uploading from the browser: an owner picks files and a folder in the
// file browser of a draft; the app computes the dandi-etag, PUTs the parts
// straight to S3 (cross-origin: the bucket's CORS rule from s3-ctl),
// completes and validates the upload and adds the assets. The bytes are
// then downloaded through the API and compared.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join } from 'node:path';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Api, assert, assertEq, dandiEtag, screenshot } from './lib.mjs';

const MiB = 1024 * 1024;

export async function run({ base, token, browser, tap, shots }) {
  const api = new Api(base, token);
  const tag = `u${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'dandi-web-upload-'));
  // A few MiB in one part, and a file just over 64 MiB: two parts.
  const small = randomBytes(3 * MiB + 17);
  const big = randomBytes(64 * MiB + 1234);
  const notes = Buffer.from(`notes ${tag}\n`);
  writeFileSync(join(dir, 'sub-01_ecephys.nwb'), small);
  writeFileSync(join(dir, 'sub-01_big.bin'), big);
  writeFileSync(join(dir, 'notes.txt'), notes);

  const d = await api.post('/api/dandisets/', { name: `Uploaded in the browser ${tag}`, metadata: { name: `Uploaded in the browser ${tag}`, description: 'Files uploaded by the browser tests.', license: ['spdx:CC0-1.0'] } });
  const id = d.identifier;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(20000);
  await ctx.addInitScript((k) => { if (!localStorage.getItem('dandi-api-key')) localStorage.setItem('dandi-api-key', k); }, token);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const s3Puts = [];
  page.on('requestfinished', (r) => { if (r.method() === 'PUT' && !r.url().startsWith(base)) s3Puts.push(r.url()); });

  const download = async (assetId) => {
    const res = await fetch(`${base}/api/assets/${assetId}/download/`);
    if (res.status !== 200) throw new Error(`download ${assetId}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  };
  const assets = async () => (await api.get(`/api/dandisets/${id}/versions/draft/assets/`, { query: { page_size: 100 } })).results;

  await tap.test('upload: an empty draft offers "Upload files" to its owner', async () => {
    await page.goto(`/dandiset/${id}/draft/files`);
    await page.getByText('This Dandiset does not currently have any files.').waitFor();
    await page.locator('#upload-open').waitFor();
  });

  await tap.test('upload: two files into sub-01/ with progress, two parts for the large one', async () => {
    await page.locator('#upload-open').click();
    const dlg = page.getByRole('dialog', { name: 'Upload files' });
    await dlg.waitFor();
    await page.locator('#upload-files').setInputFiles([join(dir, 'sub-01_ecephys.nwb'), join(dir, 'sub-01_big.bin')]);
    await page.getByLabel('Folder in the dandiset (empty for the top folder)').fill('/sub-01/');
    await dlg.getByText('sub-01/sub-01_big.bin').waitFor();
    await page.getByLabel('Folder in the dandiset (empty for the top folder)').fill('../x');
    await dlg.getByRole('alert').filter({ hasText: '".."' }).waitFor();
    assert(await page.locator('#upload-start').isDisabled(), 'Upload disabled for a bad folder');
    await page.getByLabel('Folder in the dandiset (empty for the top folder)').fill('sub-01');
    await snap(page, shots, 'dialog');
    await page.locator('#upload-start').click();
    await page.getByText('Uploaded 2 files.').waitFor({ timeout: 120000 });
    const states = await dlg.locator('.upload-state').allTextContents();
    assertEq(JSON.stringify(states.map((x) => x.trim())), '["Done","Done"]', 'both done');
    await snap(page, shots, 'done');
    assertEq(s3Puts.length, 3, 'one PUT for the small file and two for the large one, straight to S3');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: /sub-01/ }).waitFor();
  });

  await tap.test('upload: the assets have the chosen paths, the dandi-etag and the same bytes', async () => {
    const list = await assets();
    const byPath = Object.fromEntries(list.map((a) => [a.path, a]));
    assert(byPath['sub-01/sub-01_ecephys.nwb'] && byPath['sub-01/sub-01_big.bin'], `paths: ${Object.keys(byPath)}`);
    const md = await api.get(`/api/dandisets/${id}/versions/draft/assets/${byPath['sub-01/sub-01_big.bin'].asset_id}/`);
    assertEq(md.digest['dandi:dandi-etag'], dandiEtag(big), 'dandi-etag of the large file');
    assertEq(md.contentSize, big.length, 'size');
    assertEq(md.encodingFormat, 'application/octet-stream', 'encodingFormat');
    const md2 = await api.get(`/api/dandisets/${id}/versions/draft/assets/${byPath['sub-01/sub-01_ecephys.nwb'].asset_id}/`);
    assertEq(md2.encodingFormat, 'application/x-nwb', 'NWB encodingFormat');
    assert((await download(byPath['sub-01/sub-01_ecephys.nwb'].asset_id)).equals(small), 'small file bytes');
    assert((await download(byPath['sub-01/sub-01_big.bin'].asset_id)).equals(big), 'large file bytes');
  });

  await tap.test('upload: bytes the archive already holds reuse the blob; an existing path is refused', async () => {
    await page.goto(`/dandiset/${id}/draft/files?location=sub-01/`);
    await page.getByRole('link', { name: 'sub-01_ecephys.nwb', exact: true }).waitFor();
    await page.locator('#upload-open').click();
    assertEq(await page.getByLabel('Folder in the dandiset (empty for the top folder)').inputValue(), 'sub-01', 'the current folder is the default');
    await page.getByLabel('Folder in the dandiset (empty for the top folder)').fill('copies');
    await page.locator('#upload-files').setInputFiles([join(dir, 'sub-01_ecephys.nwb'), join(dir, 'notes.txt')]);
    const puts = s3Puts.length;
    await page.locator('#upload-start').click();
    await page.getByText('Uploaded 2 files.').waitFor({ timeout: 60000 });
    assertEq(s3Puts.length - puts, 1, 'only notes.txt went to S3');
    const list = await assets();
    const copy = list.find((a) => a.path === 'copies/sub-01_ecephys.nwb');
    const orig = list.find((a) => a.path === 'sub-01/sub-01_ecephys.nwb');
    assert(copy && orig, 'both paths');
    assertEq(copy.blob, orig.blob, 'same blob');
    assert((await download(list.find((a) => a.path === 'copies/notes.txt').asset_id)).equals(notes), 'notes bytes');
    // Again: the path is taken now.
    await page.locator('#upload-files').setInputFiles([join(dir, 'notes.txt')]);
    await page.locator('#upload-start').click();
    await page.locator('.upload-list li.error').waitFor();
    const msg = await page.locator('.upload-list li.error .error-text').textContent();
    assert(/exists|conflict/i.test(msg), `conflict shown: ${msg}`);
    await page.keyboard.press('Escape');
  });

  await tap.test('upload: no upload button when logged out', async () => {
    const anon = await browser.newContext({ baseURL: base });
    const p = await anon.newPage();
    await p.goto(`/dandiset/${id}/draft/files`);
    await p.getByRole('button', { name: /sub-01/ }).waitFor();
    assertEq(await p.locator('#upload-open').count(), 0, 'logged out: no upload');
    await anon.close();
  });

  await tap.test('upload: the dialog fits a phone screen', async () => {
    const m = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: base });
    await m.addInitScript((k) => { localStorage.setItem('dandi-api-key', k); }, token);
    const p = await m.newPage();
    await p.goto(`/dandiset/${id}/draft/files`);
    await p.locator('#upload-open').click();
    await p.locator('#upload-files').setInputFiles([join(dir, 'notes.txt')]);
    const box = await p.getByRole('dialog', { name: 'Upload files' }).boundingBox();
    assert(box && box.x >= 0 && box.x + box.width <= 390, `dialog within the screen: ${JSON.stringify(box)}`);
    const sw = await p.evaluate(() => document.documentElement.scrollWidth);
    assert(sw <= 390, `no horizontal scrolling (scrollWidth ${sw})`);
    await screenshot(p, join(shots, 'upload-mobile.png'));
    await m.close();
  });

  await tap.test('upload: no uncaught page errors', async () => {
    assert(errors.length === 0, errors.join('\n'));
  });
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}

async function snap(page, shots, name) {
  await screenshot(page, join(shots, `upload-${name}.png`), { fullPage: true });
}
