// The embargo end date dialog on the landing page (beyond the original):
// an owner sees when the embargo ends, opens "Change", gets the range the
// server allows on the date field, sees the server's reason for a date
// past the limit or in the past (and nothing changes), then moves the date:
// the page, GET .../embargo/ and the draft's metadata all say the new one.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join } from 'node:path';
import { Api, assert, assertEq, screenshot } from './lib.mjs';

const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);

export async function run({ base, token, browser, tap, shots }) {
  const api = new Api(base, token);
  const tag = `e${Date.now().toString(36)}`;
  const end = day(100);
  let id;
  await tap.test('embargo end: seed an embargoed dandiset ending in 100 days', async () => {
    id = (await api.post('/api/dandisets/', { name: `Embargo end ${tag}`, metadata: {} },
      { query: { embargo: 'true', embargo_end_date: end } })).identifier;
    assertEq((await api.get(`/api/dandisets/${id}/embargo/`)).embargoedUntil, end, 'the date');
  });
  if (!id) return;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(20000);
  await ctx.addInitScript((k) => { if (!localStorage.getItem('dandi-api-key')) localStorage.setItem('dandi-api-key', k); }, token);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const snap = (name) => screenshot(page, join(shots, `embargo-${name}.png`), { fullPage: true });
  const range = await api.get(`/api/dandisets/${id}/embargo/`);
  const dlg = page.getByRole('dialog', { name: 'Embargo end date' });

  await tap.test('embargo end: the owner sees the date and opens the dialog with the allowed range', async () => {
    await page.goto(`/dandiset/${id}/draft`);
    await page.locator('#embargo-end').waitFor();
    assertEq((await page.locator('#embargo-end').textContent()).trim(), `Embargo ends ${end}: Change`, 'button');
    await page.locator('#embargo-end').click();
    await dlg.waitFor();
    assertEq(await dlg.locator('#embargo-end-current').textContent(), end, 'current date');
    const input = dlg.getByLabel('New end date');
    assertEq(await input.inputValue(), end, 'the field starts with it');
    assertEq(await input.getAttribute('min'), range.earliest, 'min: tomorrow');
    assertEq(await input.getAttribute('max'), range.latest, 'max: the limit');
    assertEq(range.earliest, day(1), 'earliest is tomorrow');
    assert(await dlg.locator('#embargo-end-save').isDisabled(), 'Save disabled while unchanged');
    await snap('dialog');
  });

  await tap.test('embargo end: a date past the limit, then one in the past: the server\'s reason, nothing saved', async () => {
    const input = dlg.getByLabel('New end date');
    const late = new Date(Date.parse(range.latest) + 86400000).toISOString().slice(0, 10);
    await input.fill(late);
    await dlg.locator('#embargo-end-save').click();
    const err = dlg.locator('#embargo-end-error');
    await err.waitFor();
    assertEq(await err.textContent(), `The embargo end date can be ${range.latest} at the latest (2 years after the dandiset's creation, 5 years with a funding source and award).`, 'limit message');
    assertEq(await input.getAttribute('aria-invalid'), 'true', 'the field is marked invalid');
    await input.fill(day(-1));
    await dlg.locator('#embargo-end-save').click();
    await page.waitForFunction(() => /after today/.test(document.querySelector('#embargo-end-error')?.textContent || ''));
    assert((await err.textContent()).startsWith(`The embargo end date must be after today (${day(1)} at the earliest)`), 'past message');
    await snap('refused');
    assertEq((await api.get(`/api/dandisets/${id}/embargo/`)).embargoedUntil, end, 'unchanged');
  });

  await tap.test('embargo end: a later date is saved; the page, the API and the metadata follow', async () => {
    const later = day(130);
    await dlg.getByLabel('New end date').fill(later);
    await dlg.locator('#embargo-end-save').click();
    await dlg.waitFor({ state: 'hidden' });
    await page.waitForFunction((d) => (document.querySelector('#embargo-end')?.textContent || '').includes(d), later);
    assertEq((await api.get(`/api/dandisets/${id}/embargo/`)).embargoedUntil, later, 'GET .../embargo/');
    const md = await api.get(`/api/dandisets/${id}/versions/draft/`);
    assertEq(md.access[0].embargoedUntil, later, "the draft's access embargoedUntil");
    assert((await page.locator('.embargo-banner').textContent()).includes(`embargoed until ${later}`), 'the banner too');
    await snap('saved');
    assertEq(errors.length, 0, `no page errors (${errors.join('; ')})`);
  });
  await ctx.close();
}
