// Reviewer access links in the browser: an owner makes a link in the
// "Access links" dialog of an embargoed dandiset's landing page and copies
// its URL; a reviewer opens it in a fresh browser (no account) and reads
// the landing page, the file browser and a download; the owner revokes it
// and the reviewer is shut out at the next load, where the public page
// (requests allowed) shows the title and the request form.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Api, uploadAsset, assert, assertEq, screenshot } from './lib.mjs';

export async function run({ base, token, browser, tap, shots }) {
  const api = new Api(base, token);
  const tag = `a${Date.now().toString(36)}`;
  const name = `Under review ${tag}`;
  const bytes = Buffer.from(`embargoed bytes for the reviewer ${tag}\n${'x'.repeat(3000)}\n`);
  const ids = {};

  await tap.test('access links: seed an embargoed dandiset with a file', async () => {
    ids.ds = (await api.post('/api/dandisets/', { name, metadata: { name, description: `Seen by reviewers ${tag}.` } },
      { query: { embargo: 'true' } })).identifier;
    await uploadAsset(api, ids.ds, 'sub-01/sub-01_ecephys.nwb', bytes);
    assertEq((await api.req('GET', `/api/dandisets/${ids.ds}/`, undefined, { token: '' })).status, 401, 'closed to the anonymous');
  });
  if (!ids.ds) return;

  const owner = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  owner.setDefaultTimeout(20000);
  await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await owner.addInitScript((k) => { if (!localStorage.getItem('dandi-api-key')) localStorage.setItem('dandi-api-key', k); }, token);
  const op = await owner.newPage();
  let url = '';

  await tap.test('access links: the owner makes one in the dialog and copies its URL (shown once)', async () => {
    await op.goto(`/dandiset/${ids.ds}/draft`);
    await op.locator('#access-links').click();
    const dialog = op.getByRole('dialog', { name: 'Access links' });
    await dialog.getByText('No access links yet.').waitFor();
    await dialog.getByLabel('Label').fill('Reviewer 2');
    await dialog.getByLabel(/Expires/).fill('2099-12-31');
    await dialog.locator('#access-create').click();
    url = (await dialog.locator('.access-url').textContent()).trim();
    assert(new RegExp(`^${base}/dandiset/${ids.ds}\\?access=dandi-access-[0-9a-f]{64}$`).test(url), `link URL ${url}`);
    await dialog.getByRole('button', { name: 'Copy access link' }).click();
    assertEq(await op.evaluate(() => navigator.clipboard.readText()), url, 'copied');
    const row = dialog.locator('table.access-links tbody tr');
    assertEq(await row.count(), 1, 'listed');
    const cells = await row.first().locator('td').allTextContents();
    assertEq(cells[0], 'Reviewer 2', 'label');
    assertEq(cells[4], '0', 'not used yet');
    assert(!(await dialog.textContent()).includes(url.split('access=')[1]) || (await dialog.locator('.access-made').count()) === 1,
      'the token only in the one-time box');
    await dialog.locator('#access-requests').check();
    await op.waitForFunction(async (id) => (await (await fetch(`/api/dandisets/${id}/access-request/`)).json()).access_requests === true, ids.ds);
    await screenshot(op, join(shots, 'access-links-dialog.png'));
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
  });
  if (!url) return;

  // A fresh browser: no account, no key, nothing stored.
  const reviewer = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, baseURL: base });
  reviewer.setDefaultTimeout(20000);
  const rp = await reviewer.newPage();
  const errors = [];
  rp.on('pageerror', (e) => errors.push(String(e)));

  await tap.test('access links: a reviewer opens the URL in a fresh browser: the landing page', async () => {
    await rp.goto(url);
    await rp.getByRole('heading', { name, exact: true }).waitFor();
    assert((await rp.locator('.embargo-banner').textContent()).includes('You see it through an access link'), 'banner');
    assert(!rp.url().includes('access='), `the token is taken off the address (${rp.url()})`);
    assertEq(await rp.locator('#access-links').count(), 0, 'no owner actions');
    assertEq(await rp.locator('#manage-owners').count(), 0, 'no owners dialog');
    await rp.locator('#download').click();
    assertEq(await rp.locator('.cli-command').textContent(), `DANDI_API_KEY=${url.split('access=')[1]} dandi download ${base}/dandiset/${ids.ds}/draft`,
      "the dandi client's command with the link's token as its key");
    await rp.keyboard.press('Escape');
    await screenshot(rp, join(shots, 'access-reviewer-landing.png'), { fullPage: true });
  });

  await tap.test('access links: the reviewer walks the file browser and downloads the file, byte for byte', async () => {
    await rp.locator('#view-data').click();
    await rp.waitForURL(/\/files/);
    await rp.getByRole('button', { name: /sub-01/ }).click();
    await rp.locator('tr.file', { hasText: 'sub-01_ecephys.nwb' }).waitFor();
    const [dl] = await Promise.all([
      rp.waitForEvent('download'),
      rp.getByRole('link', { name: 'Download sub-01_ecephys.nwb' }).click(),
    ]);
    const got = readFileSync(await dl.path());
    assert(got.equals(bytes), `downloaded ${got.length} bytes, uploaded ${bytes.length}`);
  });

  await tap.test('access links: the owner sees the uses, revokes; the reviewer is shut out at once', async () => {
    await op.reload();
    await op.locator('#access-links').click();
    const dialog = op.getByRole('dialog', { name: 'Access links' });
    const row = dialog.locator('table.access-links tbody tr').first();
    await row.waitFor();
    const uses = Number((await row.locator('td').nth(4).textContent()).trim());
    assert(uses > 3, `uses counted (${uses})`);
    await dialog.getByRole('button', { name: 'Revoke Reviewer 2' }).click();
    await dialog.locator('td', { hasText: 'revoked' }).waitFor();
    await rp.goto(`/dandiset/${ids.ds}/draft`);
    await rp.getByRole('heading', { name: 'This Dandiset is Embargoed' }).waitFor();
    assertEq(await rp.evaluate(() => sessionStorage.getItem('dandi-access-link')), null, 'the dead token is forgotten');
  });

  await tap.test('access links: the public page shows the title and the request form; a request reaches the owners', async () => {
    const box = rp.locator('.access-request');
    await box.getByRole('heading', { name, exact: true }).waitFor();
    assert(!(await rp.textContent('body')).includes(`Seen by reviewers ${tag}`), 'no description');
    await box.getByLabel('Your name').fill('Rev Iewer');
    await box.getByLabel('Your e-mail').fill('rev@journal.example');
    await box.getByLabel('Message to the owners').fill(`Manuscript ${tag}: please renew my link.`);
    await box.locator('#ar-send').click();
    await box.getByText('Your request was sent to the owners').waitFor();
    // The outbox, as `dandi-jobs mail` will send it (PG* point at the test's database).
    const out = execFileSync('psql', ['-Atc', `SELECT reply_to, body FROM emails WHERE subject LIKE 'Access request for Dandiset ${ids.ds}%'`]).toString();
    assert(out.startsWith('rev@journal.example|') && out.includes(`Manuscript ${tag}`), `queued mail: ${out}`);
    await screenshot(rp, join(shots, 'access-request.png'), { fullPage: true });
  });

  await tap.test('access links: no page errors', async () => {
    assertEq(errors.length, 0, `page errors: ${errors.join('; ')}`);
  });
  await owner.close();
  await reviewer.close();
}
