// Metadata editing with forms: a new user signs up, registers a dandiset
// and fills everything a publishable dandiset needs through the schema
// forms alone (no JSON): contributors (a person with ORCID, e-mail, roles
// and an affiliation; an organisation as funder), subject matter, ethics
// approval, related resource, project, keywords. Along the way a bad ORCID
// shows its inline message with the field path, items move and are
// removed, undo/redo (buttons and keys) restore the document, and the JSON
// view shows the same document and edits it back. Saved, the draft
// validates (the real validation sweep, DANDI_JOBS_CMD) and publishes.
// With axe-core in web/node_modules the editor's tabs are checked for
// serious accessibility violations.
// Called by t/web/run with { base, token, browser, tap, shots }.
import { join, dirname } from 'node:path';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Api, uploadAsset, assert, assertEq, screenshot, signUp } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

function axeSource() {
  try {
    return createRequire(join(ROOT, 'web', 'package.json'))('axe-core').source;
  } catch {
    return null;
  }
}

export async function run({ base, token, browser, tap, shots }) {
  const jobsCmd = process.env.DANDI_JOBS_CMD;
  const api = new Api(base, token);
  const user = `form${Date.now().toString(36)}`;
  const tag = user;
  const snap = (page, name) => screenshot(page, join(shots, `forms-${name}.png`), { fullPage: true });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  ctx.setDefaultTimeout(20000);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  const axe = axeSource();
  let id = null;

  // The headings of the contributor items (not of their affiliations).
  const personTitles = () => page.locator('#meditor-panel-contributor .sf-item-title').evaluateAll((els) => els
    .filter((e) => /^mf-contributor-\d+-title$/.test(e.id)).map((e) => e.textContent.replace(/\s+/g, ' ').trim()));
  const check = async (scope, label) => { await scope.getByLabel(label, { exact: true }).check(); };

  await tap.test('forms: a new user signs up and registers a dandiset', async () => {
    await signUp(page, { user, first: 'Form', last: 'Filler', use: 'Browser tests of the forms' });
    await page.waitForURL((u) => u.pathname === '/dandiset' && !u.searchParams.has('code'));
    await page.locator('#user-menu').waitFor();
    await page.goto('/dandiset/create');
    await page.getByLabel('Title').fill(`Filled through forms ${tag}`);
    await page.getByLabel('Description').fill(`Registered by a new user; the rest is filled in the metadata forms (${tag}).`);
    await page.getByLabel('License').selectOption('spdx:CC-BY-4.0');
    await page.getByRole('button', { name: 'Register Dandiset' }).click();
    await page.waitForURL(/\/dandiset\/\d{6}$/);
    id = page.url().match(/(\d{6})$/)[1];
    await page.locator('#view-edit-metadata').click();
    await page.waitForURL(new RegExp(`/dandiset/${id}/draft/metadata$`));
    await page.getByRole('tab', { name: 'General' }).waitFor();
  });
  if (!id) { await ctx.close(); return; }

  const panel = page.locator('#meditor-panel-contributor');
  await tap.test('forms: contributors — replace the default one by a person with ORCID, e-mail, roles and an affiliation', async () => {
    await page.getByRole('tab', { name: 'Dandiset contributors' }).click();
    // The server made the creator the contact person; removed, the list is empty.
    assertEq((await personTitles()).length, 1, 'one default contributor');
    await panel.getByRole('button', { name: 'Remove Dandiset contributors 1' }).click();
    await panel.getByText('None yet.').waitFor();
    await page.getByText('There are errors in the metadata for this Dandiset.').waitFor();
    await panel.locator('#mf-contributor-err').getByText('contributor: required information').waitFor();
    await panel.getByRole('button', { name: 'Add Person to Dandiset contributors' }).click();
    const item = page.locator('#mf-contributor-0-body');
    assertEq(await item.getAttribute('role'), 'group', 'the item is a group');
    // The first field of the new item has the focus.
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'mf-contributor-0-name');
    await page.keyboard.type('Lovelace, Augusta Ada');
    await page.getByLabel('ORCID', { exact: true }).fill('0000-0002-1825');
    const err = page.locator('#mf-contributor-0-identifier-err');
    await err.waitFor();
    assert(/^contributor\[0\]\.identifier: must match pattern/.test((await err.textContent()).trim()), `inline ORCID message: ${await err.textContent()}`);
    assertEq(await page.getByLabel('ORCID', { exact: true }).getAttribute('aria-invalid'), 'true', 'aria-invalid');
    await snap(page, 'bad-orcid');
    // The problem list links the message to its field, on its tab.
    await page.getByRole('tab', { name: 'General' }).click();
    await page.locator('.meditor-problems summary').click();
    await page.locator('.meditor-problems').getByRole('button', { name: 'contributor[0].identifier' }).click();
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'mf-contributor-0-identifier');
    await page.locator('.meditor-problems summary').click();
    await page.getByLabel('ORCID', { exact: true }).fill('0000-0002-1825-0097');
    await err.waitFor({ state: 'detached' });
    const roles = page.getByRole('group', { name: 'Role' });
    await check(roles, 'Contact Person');
    // A contact person needs an e-mail address (dandischema's rule).
    await page.locator('#mf-contributor-0-email-err').getByText('a contact person must have an e-mail address').waitFor();
    await page.getByLabel('E-mail', { exact: true }).fill('ada@example.org');
    await check(roles, 'Author');
    await check(roles, 'Conceptualization');
    assert(await item.getByLabel('Include contributor in citation').isChecked(), 'in the citation by default');
    await item.getByRole('button', { name: 'Add Affiliation' }).click();
    await page.locator('#mf-contributor-0-affiliation-0-name').fill('Analytical Engine Society');
    await page.locator('#mf-contributor-0-affiliation-0-identifier').fill('https://ror.org/05qwgg493');
    assertEq(await page.locator('label[for="mf-contributor-0-affiliation-0-name"]').textContent(), 'Name *', 'affiliation name label');
  });

  await tap.test('forms: an organisation (funder, award) and more people; reorder and remove', async () => {
    await panel.getByRole('button', { name: 'Add Organization to Dandiset contributors' }).click();
    await page.locator('#mf-contributor-1-name').fill(`Funding Agency ${tag}`);
    await check(page.locator('#mf-contributor-1-roleName'), 'Funder');
    await page.locator('#mf-contributor-1-awardNumber').fill('R01-000001');
    await page.locator('#mf-contributor-1-identifier').fill('https://ror.org/01cwqze88');
    await panel.getByRole('button', { name: 'Add Person to Dandiset contributors' }).click();
    await page.locator('#mf-contributor-2-name').fill('Babbage, Charles');
    await check(page.locator('#mf-contributor-2-roleName'), 'Data Collector');
    await panel.getByRole('button', { name: 'Add Person to Dandiset contributors' }).click();
    await page.locator('#mf-contributor-3-name').fill('Temporary, Tim');
    assertEq(JSON.stringify(await personTitles()), JSON.stringify(['Person Lovelace, Augusta Ada', `Organization Funding Agency ${tag}`, 'Person Babbage, Charles', 'Person Temporary, Tim']), 'four contributors');
    // Move Babbage up with the keyboard: the focus stays on the moved item.
    await panel.getByRole('button', { name: 'Move Dandiset contributors 3 up' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'mf-contributor-1-up');
    assertEq(JSON.stringify(await personTitles()), JSON.stringify(['Person Lovelace, Augusta Ada', 'Person Babbage, Charles', `Organization Funding Agency ${tag}`, 'Person Temporary, Tim']), 'Babbage moved up');
    await panel.getByRole('button', { name: 'Move Dandiset contributors 2 down' }).click();
    await panel.getByRole('button', { name: 'Remove Dandiset contributors 4' }).click();
    assertEq(JSON.stringify(await personTitles()), JSON.stringify(['Person Lovelace, Augusta Ada', `Organization Funding Agency ${tag}`, 'Person Babbage, Charles']), 'moved back down; Tim removed');
    await page.getByText('All metadata for this dandiset is valid.').waitFor();
    await snap(page, 'contributors');
  });

  await tap.test('forms: undo and redo (buttons, Ctrl+Z, Ctrl+Shift+Z) over the whole document', async () => {
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    assertEq((await personTitles()).length, 4, 'undo brings Tim back');
    await page.getByRole('button', { name: 'Redo', exact: true }).click();
    assertEq((await personTitles()).length, 3, 'redo removes him again');
    await page.locator('#mf-contributor-2-name').fill('Babbage, Charles X');
    await page.keyboard.press('Control+z');
    assertEq(await page.locator('#mf-contributor-2-name').inputValue(), 'Babbage, Charles', 'Ctrl+Z undoes the typing');
    await page.keyboard.press('Control+Shift+Z');
    assertEq(await page.locator('#mf-contributor-2-name').inputValue(), 'Babbage, Charles X', 'Ctrl+Shift+Z redoes it');
    await page.keyboard.press('Control+z');
    assertEq(await page.locator('#mf-contributor-2-name').inputValue(), 'Babbage, Charles', 'undone again');
  });

  await tap.test('forms: subject matter, ethics approval, related resource, project, keywords', async () => {
    await page.getByRole('tab', { name: 'Subject matter of the dataset' }).click();
    await page.getByRole('button', { name: /^Add Anatomy/ }).click();
    await page.locator('#mf-about-0-name').fill('Hippocampus');
    await page.locator('#mf-about-0-identifier').fill('http://purl.obolibrary.org/obo/UBERON_0001954');
    await page.getByRole('tab', { name: 'Ethics approvals' }).click();
    await page.getByRole('button', { name: /^Add Ethics Approval/ }).click();
    await page.locator('#mf-ethicsApproval-0-identifier-err').getByText('ethicsApproval[0].identifier: required information').waitFor();
    await page.locator('#mf-ethicsApproval-0-identifier').fill(`IACUC-${tag}`);
    await page.getByRole('button', { name: 'Add Contact Point' }).click();
    await page.locator('#mf-ethicsApproval-0-contactPoint-email').fill('ethics@example.edu');
    await page.getByRole('tab', { name: 'Related Resource' }).click();
    await page.getByRole('button', { name: /^Add Resource/ }).click();
    await page.locator('#mf-relatedResource-0-name').fill('The paper');
    await page.locator('#mf-relatedResource-0-url').fill('https://doi.org/10.1000/xyz123');
    await page.getByLabel('Resource relation').selectOption({ label: 'Is Described By' });
    await page.getByLabel('Resource type').selectOption({ label: 'Journal Article' });
    await page.getByRole('tab', { name: 'Associated projects' }).click();
    await page.getByRole('button', { name: /^Add Project/ }).click();
    await page.locator('#mf-wasGeneratedBy-0-name').fill(`Project ${tag}`);
    await page.getByRole('tab', { name: 'General' }).click();
    await page.getByLabel('Keywords').fill('forms\nhippocampus');
    await page.getByLabel('Keywords').blur();
    await page.getByLabel('Study Target').fill('memory');
    await page.getByLabel('Study Target').blur();
    await page.getByLabel('Protocol').fill('https://protocols.io/view/x');
    await page.getByLabel('Protocol').blur();
    await check(page.getByRole('group', { name: /License/ }), 'CC0-1.0');
    await page.getByText('All metadata for this dandiset is valid.').waitFor();
    await snap(page, 'general');
  });

  await tap.test('forms: the JSON view shows the same document and edits round-trip into the form', async () => {
    await page.locator('#meditor-json-toggle').click();
    const ta = page.getByLabel('Dandiset metadata (JSON)');
    const md = JSON.parse(await ta.inputValue());
    assertEq(JSON.stringify(md.contributor.map((c) => c.name)), JSON.stringify(['Lovelace, Augusta Ada', `Funding Agency ${tag}`, 'Babbage, Charles']), 'contributors in the JSON');
    assertEq(JSON.stringify(md.contributor[0]), JSON.stringify({ schemaKey: 'Person', includeInCitation: true, name: 'Lovelace, Augusta Ada', identifier: '0000-0002-1825-0097', roleName: ['dcite:Author', 'dcite:Conceptualization', 'dcite:ContactPerson'], email: 'ada@example.org', affiliation: [{ schemaKey: 'Affiliation', name: 'Analytical Engine Society', identifier: 'https://ror.org/05qwgg493' }] }), 'the person as dandischema wants it');
    assertEq(JSON.stringify(md.license), '["spdx:CC0-1.0","spdx:CC-BY-4.0"]', 'licenses');
    assertEq(md.relatedResource[0].relation, 'dcite:IsDescribedBy', 'relation');
    md.acknowledgement = `Thanks from the JSON view ${tag}`;
    await ta.fill(JSON.stringify(md, null, 2));
    await page.locator('#meditor-json-toggle').click();
    await page.getByRole('tab', { name: 'General' }).click();
    assertEq(await page.getByLabel('Acknowledgement').inputValue(), `Thanks from the JSON view ${tag}`, 'the form shows the JSON edit');
  });

  await tap.test('forms: no serious accessibility violations on the editor\'s tabs (axe-core)', async () => {
    if (!axe) { tap.diag('axe-core is not in web/node_modules: skipped'); return true; }
    await page.addScriptTag({ content: axe });
    const bad = [];
    for (const t of ['General', 'Dandiset contributors', 'Ethics approvals', 'Related Resource', 'JSON']) {
      await page.getByRole('tab', { name: t, exact: true }).click();
      // The editor only: the page header is another part's.
      const r = await page.evaluate(() => window.axe.run('.meditor', { resultTypes: ['violations'] }));
      tap.diag(`axe on the ${t} tab: ${r.violations.length} violation(s) of ${r.passes.length + r.violations.length} rules`);
      for (const v of r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) bad.push(`${t}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    }
    assert(bad.length === 0, bad.join('\n'));
  });

  await tap.test('forms: save; the server has the document the forms made', async () => {
    await page.locator('#meditor-save').click();
    await page.getByText('Metadata saved.').waitFor();
    const got = await api.get(`/api/dandisets/${id}/versions/draft/`);
    const p = got.contributor[0];
    assertEq(p.schemaKey, 'Person', 'person');
    assertEq(p.identifier, '0000-0002-1825-0097', 'ORCID');
    assert(p.roleName.includes('dcite:ContactPerson'), 'contact person');
    assertEq(p.affiliation[0].name, 'Analytical Engine Society', 'affiliation');
    assertEq(got.contributor[1].schemaKey, 'Organization', 'organisation');
    assertEq(got.contributor[1].awardNumber, 'R01-000001', 'award number');
    assertEq(got.about[0].schemaKey, 'Anatomy', 'about');
    assertEq(got.ethicsApproval[0].contactPoint.schemaKey, 'ContactPoint', 'ethics contact point');
    assertEq(got.wasGeneratedBy[0].schemaKey, 'Project', 'project');
    assertEq(JSON.stringify(got.keywords), '["forms","hippocampus"]', 'keywords');
    assertEq(got.acknowledgement, `Thanks from the JSON view ${tag}`, 'acknowledgement');
  });

  await tap.test('forms: with a file the draft validates (status Valid) and publishes', async () => {
    if (!jobsCmd) { tap.diag('DANDI_JOBS_CMD is not set: validation and publishing not run'); return true; }
    const jobs = () => execSync(`${jobsCmd} run`, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    await uploadAsset(api, id, 'sub-01/sub-01_ecephys.nwb', Buffer.from(`forms ${tag}\n`), { schemaKey: 'Asset', encodingFormat: 'application/x-nwb' });
    jobs();
    const info = await api.get(`/api/dandisets/${id}/versions/draft/info/`);
    assertEq(info.status, 'Valid', `draft status (errors ${JSON.stringify([info.version_validation_errors, info.asset_validation_errors])})`);
    await page.goto(`/dandiset/${id}/draft`);
    await page.waitForFunction(() => document.querySelector('[data-status]') && document.querySelector('[data-status]').textContent === 'Valid');
    await page.locator('#publish').click();
    await page.locator('#publish-continue').click();
    await page.locator('#publish-confirm').click();
    await page.locator('.publishing-banner').waitFor();
    jobs();
    await page.getByText('Publish complete.').waitFor({ timeout: 30000 });
    const versions = (await api.get(`/api/dandisets/${id}/versions/`)).results.filter((v) => v.version !== 'draft');
    assertEq(versions.length, 1, 'one published version');
    const pub = await api.get(`/api/dandisets/${id}/versions/${versions[0].version}/`);
    assertEq(pub.contributor[0].identifier, '0000-0002-1825-0097', 'the ORCID is published');
    assert(pub.citation.startsWith('Lovelace, Augusta Ada; Babbage, Charles'), `citation from the people in order: ${pub.citation}`);
  });

  await tap.test('forms: at phone width the contributor forms fit the screen (and pass axe)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`/dandiset/${id}/draft/metadata`);
    await page.getByRole('tab', { name: 'Dandiset contributors' }).click();
    await page.locator('#mf-contributor-0-name').waitFor();
    const scrollW = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(scrollW <= 390, `no horizontal scrolling (scrollWidth ${scrollW})`);
    await screenshot(page, join(shots, 'forms-phone.png'));
    if (axe) {
      await page.addScriptTag({ content: axe });
      const r = await page.evaluate(() => window.axe.run('.meditor', { resultTypes: ['violations'] }));
      const bad = r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical');
      assert(bad.length === 0, bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`).join('\n'));
    }
  });

  await tap.test('forms: no page or console errors', async () => {
    assert(errors.length === 0, errors.join('\n'));
  });
  await ctx.close();
}
