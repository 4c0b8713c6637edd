// Accessibility: axe-core (web/node_modules/axe-core, the rules it runs by
// default) on every page of the web app, signed out and signed in, at a
// desktop and a phone width, with its menus and dialogs open too. No
// serious or critical violation may be left. Called by t/web/run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Api, uploadAsset, assert } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WIDTHS = [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]];

export async function run({ base, token, browser, tap }) {
  let axeSource;
  try {
    axeSource = readFileSync(createRequire(join(ROOT, 'web', 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');
  } catch (e) {
    tap.skip('a11y: axe on every page', `axe-core is not installed in web/node_modules (${e.message})`);
    return;
  }
  const api = new Api(base, token);
  const tag = `a${Date.now().toString(36)}`;
  let id;
  await tap.test('a11y: seed a dandiset with a file', async () => {
    const name = `Accessible ${tag}`;
    id = (await api.post('/api/dandisets/', { name, metadata: { name, description: 'For the **axe** checks.', license: ['spdx:CC0-1.0'],
      contributor: [{ schemaKey: 'Person', name: 'Doe, Jane', email: 'jane@example.org', roleName: ['dcite:ContactPerson'], includeInCitation: true }] } })).identifier;
    await uploadAsset(api, id, 'sub-01/sub-01_ecephys.nwb', Buffer.from(`axe ${tag}\n`), { schemaKey: 'Asset', encodingFormat: 'application/x-nwb' });
  });
  if (!id) return;

  // [name, path, what to do once it is shown (optional)]
  const open = (sel) => async (page) => { await page.locator(sel).first().click(); await page.waitForTimeout(150); };
  // The main menu's button shows at phone width only.
  const openIfShown = (sel) => async (page) => { if (await page.locator(sel).isVisible()) await open(sel)(page); };
  const pages = [
    ['home', '/'],
    ['home, main menu', '/', openIfShown('.nav-toggle')],
    ['home, log-in dialog', '/', open('#login')],
    ['public dandisets', '/dandiset'],
    ['dandiset search', '/dandiset/search?search=accessible'],
    ['asset search', '/search'],
    ['landing page', `/dandiset/${id}/draft`],
    ['landing page, download menu', `/dandiset/${id}/draft`, open('#download')],
    ['landing page, contact menu', `/dandiset/${id}/draft`, open('#contact')],
    ['landing page, open with menu', `/dandiset/${id}/draft`, open('.side-col .open-with button')],
    ['landing page, how to cite', `/dandiset/${id}/draft`, open('#tab-cite')],
    ['landing page, share dialog', `/dandiset/${id}/draft`, open('#share')],
    ['file browser', `/dandiset/${id}/draft/files?location=`],
    ['file browser, folder, open with menu', `/dandiset/${id}/draft/files?location=sub-01/`, open('tr.file .open-with button')],
    ['metadata', `/dandiset/${id}/draft/metadata`],
    ['no such dandiset', '/dandiset/999999/draft'],
    ['not found', '/no/such/page'],
  ];
  const signedIn = [
    ['my dandisets', '/dandiset/my'],
    ['starred dandisets', '/dandiset/starred'],
    ['create', '/dandiset/create'],
    ['landing page (owner)', `/dandiset/${id}/draft`],
    ['landing page (owner), user menu', `/dandiset/${id}/draft`, open('#user-menu')],
    ['landing page (owner), owners dialog', `/dandiset/${id}/draft`, open('#manage-owners')],
    ['file browser (owner)', `/dandiset/${id}/draft/files?location=`],
    ['file browser (owner), upload dialog', `/dandiset/${id}/draft/files?location=`, open('#upload-open')],
    ['metadata editor (owner)', `/dandiset/${id}/draft/metadata`],
  ];

  await tap.test('a11y: star buttons are named by their visible count, the file browser has an h1, the search field a focus ring', async () => {
    const ctx = await browser.newContext({ viewport: WIDTHS[0][1], baseURL: base });
    const page = await ctx.newPage();
    await page.goto(`/dandiset/${id}/draft`);
    const star = page.locator('.header-card .star-btn');
    await star.waitFor();
    const count = (await star.locator('.star-count').textContent()).trim();
    const name = await star.evaluate((b) => b.textContent.replace(/[★☆]/g, '').replace(/\s+/g, ' ').trim());
    assert(name === `${count} ${count === '1' ? 'star' : 'stars'}`, `star button text "${name}" for count ${count}`);
    assert(await page.getByRole('button', { name: `${count} ${count === '1' ? 'star' : 'stars'}`, exact: true }).count() >= 1, 'found by that accessible name');
    assert(!(await star.getAttribute('aria-label')), 'no aria-label over the visible text');
    await page.goto(`/dandiset/${id}/draft/files?location=`);
    await page.locator('table.files').waitFor();
    assert(await page.locator('h1').count() === 1, 'the file browser has one h1');
    await page.goto('/dandiset');
    const input = page.getByRole('combobox', { name: 'Search dandisets' }).first();
    await input.waitFor();
    const before = await page.locator('.search').first().evaluate((e) => getComputedStyle(e).outlineStyle);
    await input.focus();
    const ring = await page.locator('.search').first().evaluate((e) => {
      const c = getComputedStyle(e);
      return { style: c.outlineStyle, width: parseFloat(c.outlineWidth), color: c.outlineColor };
    });
    assert(before === 'none' && ring.style === 'solid' && ring.width >= 2, `focus ring ${JSON.stringify(ring)} (unfocused: ${before})`);
    await ctx.close();
  });

  for (const [wname, viewport] of WIDTHS) {
    for (const [who, list] of [['signed out', pages], ['signed in', signedIn]]) {
      const ctx = await browser.newContext({ viewport, baseURL: base, isMobile: wname === 'phone', hasTouch: wname === 'phone' });
      ctx.setDefaultTimeout(20000);
      if (who === 'signed in') await ctx.addInitScript((k) => { localStorage.setItem('dandi-api-key', k); }, token);
      const page = await ctx.newPage();
      for (const [name, path, act] of list) {
        await tap.test(`a11y (${wname}, ${who}): ${name} has no serious or critical axe violation`, async () => {
          await page.goto(path);
          await page.waitForLoadState('networkidle');
          await page.locator('[role=progressbar]').first().waitFor({ state: 'detached', timeout: 15000 }).catch(() => {});
          if (act) await act(page);
          await page.addScriptTag({ content: axeSource });
          const r = await page.evaluate(async () => {
            // eslint-disable-next-line no-undef
            const res = await axe.run(document, { resultTypes: ['violations'] });
            return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
              .map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`).join('\n  ')}`);
          });
          assert(r.length === 0, `${path}:\n${r.join('\n')}`);
        });
      }
      await ctx.close();
    }
  }
}
