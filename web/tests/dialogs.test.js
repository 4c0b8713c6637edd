// The landing page's dialogs (and the confirm dialog they share with the
// file browser): what they show, what they send to the API, what they emit.
// The browser tests (t/web/publish.spec.mjs) cover the owner's publish and
// unembargo paths against a real archive; these add the paths they do not
// reach: an admin's forced publish, active uploads, deleting a dandiset.
import { describe, it, expect, vi, beforeAll, afterEach } from 'vitest';
import { mount, flushPromises } from '@vue/test-utils';
import { createRouter, createMemoryHistory } from 'vue-router';
import ConfirmDialog from '../src/components/ConfirmDialog.vue';
import DeleteDandisetDialog from '../src/components/DeleteDandisetDialog.vue';
import PublishDialog from '../src/components/PublishDialog.vue';
import UnembargoDialog from '../src/components/UnembargoDialog.vue';
import ShareDialog from '../src/components/ShareDialog.vue';
import ValidationErrorsDialog from '../src/components/ValidationErrorsDialog.vue';
import { store } from '../src/lib/store.js';

beforeAll(() => {
  // jsdom has no modal dialogs.
  HTMLDialogElement.prototype.showModal ||= function showModal() { this.open = true; };
  HTMLDialogElement.prototype.close ||= function close() { this.open = false; };
});
afterEach(() => {
  vi.unstubAllGlobals();
  store.snackbar = null;
});

// A fetch that answers "METHOD /path" from routes ([status, body] or a
// function of the URL giving one) and records every request.
function fakeApi(routes) {
  const calls = [];
  vi.stubGlobal('fetch', vi.fn(async (url, init = {}) => {
    const method = init.method || 'GET';
    calls.push({ method, url, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const r = routes[`${method} ${url.split('?')[0]}`];
    const [status, body] = typeof r === 'function' ? r(url) : r || [404, { detail: 'Not found.' }];
    if (body === null) return new Response(null, { status });
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }));
  return calls;
}

// The title of the one dialog showing its content (Modal renders the body
// of an open dialog only).
const shown = (w) => w.findAll('.modal-body h2').map((h) => h.text());
const button = (w, label) => {
  const b = w.findAll('button').filter((x) => x.text() === label);
  expect(b.length, `one "${label}" button`).toBe(1);
  return b[0];
};

async function open(component, props) {
  const w = mount(component, { props: { ...props, open: false }, attachTo: document.body });
  await w.setProps({ open: true });
  await flushPromises();
  return w;
}

describe('ConfirmDialog', () => {
  it('with typeToConfirm, confirms only once that text is typed; starts empty on every opening', async () => {
    const w = await open(ConfirmDialog, { title: 'Really?', cancelLabel: 'No', typeToConfirm: '000007', typeWhat: 'the identifier' });
    expect(w.get('label').text()).toBe('Type the identifier 000007 to confirm');
    const yes = button(w, 'Yes');
    expect(yes.attributes('disabled')).toBeDefined();
    const input = w.get(`#${w.get('label').attributes('for')}`);
    await input.setValue('000070');
    expect(yes.attributes('disabled')).toBeDefined();
    await input.setValue('000007');
    expect(yes.attributes('disabled')).toBeUndefined();
    await yes.trigger('click');
    await button(w, 'No').trigger('click');
    expect(w.emitted('confirm')).toHaveLength(1);
    expect(w.emitted('close')).toHaveLength(1);
    await w.setProps({ open: false });
    await w.setProps({ open: true });
    expect(w.get('input').element.value).toBe('');
    w.unmount();
  });
  it('without it, is a plain question; danger makes the confirm button red', async () => {
    const w = await open(ConfirmDialog, { title: 'Delete it?', confirmLabel: 'Delete', danger: true });
    expect(w.find('input').exists()).toBe(false);
    expect(button(w, 'Delete').classes()).toContain('danger');
    expect(button(w, 'Cancel').attributes('disabled')).toBeUndefined();
    await button(w, 'Delete').trigger('click');
    expect(w.emitted('confirm')).toHaveLength(1);
    expect(w.get('dialog').attributes('aria-labelledby')).toBe(w.get('h2').attributes('id'));
    w.unmount();
  });
});

describe('DeleteDandisetDialog', () => {
  it('sends DELETE for the dandiset, then emits deleted', async () => {
    const calls = fakeApi({ 'DELETE /api/dandisets/000007/': [204, null] });
    const w = await open(DeleteDandisetDialog, { identifier: '000007' });
    expect(shown(w)).toEqual(['Delete this dandiset?']);
    expect(w.text()).toContain('Dandiset 000007 and its draft will be deleted.');
    await button(w, 'Delete').trigger('click');
    await flushPromises();
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['DELETE /api/dandisets/000007/']);
    expect(w.emitted('close')).toHaveLength(1);
    expect(w.emitted('deleted')).toHaveLength(1);
    expect(store.snackbar.text).toBe('Dandiset 000007 was deleted.');
    w.unmount();
  });
  it('shows the server\'s reason when it refuses, and emits no deleted', async () => {
    fakeApi({ 'DELETE /api/dandisets/000007/': [403, { detail: 'Cannot delete dandisets with published versions.' }] });
    const w = await open(DeleteDandisetDialog, { identifier: '000007' });
    await button(w, 'Delete').trigger('click');
    await flushPromises();
    expect(w.emitted('deleted')).toBeUndefined();
    expect(store.snackbar).toMatchObject({ text: 'Cannot delete dandisets with published versions.', kind: 'error' });
    w.unmount();
  });
});

describe('PublishDialog', () => {
  const publishUrl = 'POST /api/dandisets/000007/versions/draft/publish/';

  it('an owner goes checklist, release notes, publish: the notes are sent and started emitted', async () => {
    const calls = fakeApi({ [publishUrl]: [202, { version: 'draft' }] });
    const w = await open(PublishDialog, { identifier: '000007', adminNotOwner: false });
    expect(shown(w)).toEqual(['Publish Checklist']);
    expect(w.findAll('.checklist li')).toHaveLength(6);
    await w.get('#publish-continue').trigger('click');
    expect(shown(w)).toEqual(['Release Notes (Optional)']);
    await w.get('#release-notes').setValue('Fixed the units.');
    await w.get('#publish-confirm').trigger('click');
    await flushPromises();
    expect(calls).toEqual([{ method: 'POST', url: '/api/dandisets/000007/versions/draft/publish/', body: { release_notes: 'Fixed the units.' } }]);
    expect(w.emitted('close')).toHaveLength(1);
    expect(w.emitted('started')).toHaveLength(1);
    w.unmount();
  });

  it('an admin who is not an owner is warned first; "No, take me back" sends nothing', async () => {
    const calls = fakeApi({ [publishUrl]: [202, { version: 'draft' }] });
    const w = await open(PublishDialog, { identifier: '000007', adminNotOwner: true });
    await w.get('#publish-continue').trigger('click');
    await w.get('#release-notes').setValue('Admin release.');
    await w.get('#publish-confirm').trigger('click');
    expect(shown(w)).toEqual(['Publish as an admin?']);
    expect(w.text()).toContain('you are not an owner of this dandiset');
    await button(w, 'No, take me back').trigger('click');
    expect(w.emitted('close')).toHaveLength(1);
    await w.setProps({ open: false });
    expect(calls).toEqual([]);

    // Opened again it starts over at the checklist, the notes still typed.
    await w.setProps({ open: true });
    expect(shown(w)).toEqual(['Publish Checklist']);
    await w.get('#publish-continue').trigger('click');
    expect(w.get('#release-notes').element.value).toBe('Admin release.');
    await w.get('#publish-confirm').trigger('click');
    await button(w, 'Yes').trigger('click');
    await flushPromises();
    expect(calls.map((c) => c.body)).toEqual([{ release_notes: 'Admin release.' }]);
    expect(w.emitted('started')).toHaveLength(1);
    w.unmount();
  });

  it('says so when the dandiset is already being published (423)', async () => {
    fakeApi({ [publishUrl]: [423, { detail: 'Dandiset is currently locked' }] });
    const w = await open(PublishDialog, { identifier: '000007' });
    await w.get('#publish-continue').trigger('click');
    await w.get('#publish-confirm').trigger('click');
    await flushPromises();
    expect(w.emitted('started')).toBeUndefined();
    expect(store.snackbar).toMatchObject({ text: 'This dandiset is already being published. Please wait for publishing to complete.', kind: 'error' });
    w.unmount();
  });
});

describe('UnembargoDialog', () => {
  it('without active uploads asks for the identifier, then sends POST .../unembargo/', async () => {
    const calls = fakeApi({ 'POST /api/dandisets/000007/unembargo/': [200, null] });
    const w = await open(UnembargoDialog, { identifier: '000007', activeUploads: 0 });
    expect(shown(w)).toEqual(['Unembargo Dandiset']);
    const yes = button(w, 'Yes');
    expect(yes.attributes('disabled')).toBeDefined();
    await w.get('input').setValue('000007');
    await yes.trigger('click');
    await flushPromises();
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST /api/dandisets/000007/unembargo/']);
    expect(w.emitted('close')).toHaveLength(1);
    expect(w.emitted('changed')).toHaveLength(1);
    expect(store.snackbar.text).toBe('Unembargo started. It may take a while.');
    w.unmount();
  });

  it('with active uploads lists them all (every page) and clears them with DELETE .../uploads/', async () => {
    const up = (n) => ({ upload_id: `u${n}`, created: '2024-05-01T10:00:00Z', size: 2500000 * n, etag: `etag-${n}` });
    const calls = fakeApi({
      'GET /api/dandisets/000007/uploads/': (url) => (new URL(url, 'http://x').searchParams.get('page') === '1'
        ? [200, { count: 3, next: '/api/dandisets/000007/uploads/?page=2', results: [up(1), up(2)] }]
        : [200, { count: 3, next: null, results: [up(3)] }]),
      'DELETE /api/dandisets/000007/uploads/': [204, null],
    });
    const w = await open(UnembargoDialog, { identifier: '000007', activeUploads: 3 });
    expect(shown(w)).toEqual(['This dandiset has active uploads']);
    expect(w.findAll('tbody tr code').map((c) => c.text())).toEqual(['etag-1', 'etag-2', 'etag-3']);
    expect(w.findAll('tbody tr')[0].text()).toContain('2.5 MB');
    await button(w, 'Clear Uploads').trigger('click');
    await flushPromises();
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/dandisets/000007/uploads/?page=1&page_size=100',
      'GET /api/dandisets/000007/uploads/?page=2&page_size=100',
      'DELETE /api/dandisets/000007/uploads/',
    ]);
    expect(w.emitted('close')).toHaveLength(1);
    expect(w.emitted('changed')).toHaveLength(1);
    expect(store.snackbar.text).toBe('The active uploads were cleared.');
    w.unmount();
  });

  it('when the uploads cannot be listed, reports it and shows no dialog', async () => {
    fakeApi({ 'GET /api/dandisets/000007/uploads/': [500, { detail: 'boom' }] });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const w = await open(UnembargoDialog, { identifier: '000007', activeUploads: 1 });
    expect(shown(w)).toEqual([]);
    expect(w.emitted('close')).toHaveLength(1);
    expect(store.snackbar).toMatchObject({ text: 'Could not list the uploads: boom', kind: 'error' });
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
    w.unmount();
  });
});

describe('ShareDialog', () => {
  const props = { identifier: '000007', version: '0.240501.1000', name: 'Mouse V1', url: 'http://localhost:3000/dandiset/000007/0.240501.1000' };
  it('shows the link, and the DOI only when there is one; posts and mails carry the DOI, else the link', async () => {
    let w = await open(ShareDialog, props);
    expect(shown(w)).toEqual(['Share "Mouse V1"']);
    expect(w.get('#share-link').element.value).toBe(props.url);
    expect(w.find('#share-doi').exists()).toBe(false);
    expect(w.get('a[href^="mailto:"]').attributes('href')).toBe(`mailto:?subject=${encodeURIComponent('Dandiset 000007: Mouse V1')}&body=${encodeURIComponent(props.url)}`);
    w.unmount();
    const doiUrl = 'https://doi.org/10.80507/dandi.000007/0.240501.1000';
    w = await open(ShareDialog, { ...props, doiUrl });
    expect(w.get('#share-doi').element.value).toBe(doiUrl);
    const tweet = new URL(w.get('a[href^="https://twitter.com/"]').attributes('href'));
    expect(tweet.searchParams.get('text')).toBe('Mouse V1 (DANDI:000007/0.240501.1000)');
    expect(tweet.searchParams.get('url')).toBe(doiUrl);
    w.unmount();
  });
});

describe('ValidationErrorsDialog', () => {
  it('opens on the tab asked for, groups asset errors by path, links owners to the editor', async () => {
    const router = createRouter({ history: createMemoryHistory(), routes: [
      { path: '/', component: { template: '<div/>' } },
      { path: '/dandiset/:identifier/:version/metadata', name: 'metadataEditor', component: { template: '<div/>' } },
    ] });
    const w = mount(ValidationErrorsDialog, {
      props: {
        open: false, identifier: '000007', tab: 'assets', editable: true,
        versionErrors: [{ field: 'license', message: 'is required' }],
        assetErrors: [{ path: 'a.nwb', field: 'subject', message: 'missing' }, { path: 'b.nwb', message: 'bad file' }, { path: 'a.nwb', message: 'no session' }],
      },
      global: { plugins: [router] },
      attachTo: document.body,
    });
    await w.setProps({ open: true });
    expect(w.get('[role=tab][aria-selected=true]').text()).toBe('Assets (3)');
    expect(w.findAll('.error-list > li > strong').map((s) => s.text())).toEqual(['a.nwb', 'b.nwb']);
    expect(w.findAll('.error-list > li')[0].findAll('li')).toHaveLength(2);
    expect(w.get('a.btn').attributes('href')).toBe('/dandiset/000007/draft/metadata');
    await w.get('#errors-tab-metadata').trigger('click');
    expect(w.get('[role=tabpanel]').attributes('aria-labelledby')).toBe('errors-tab-metadata');
    expect(w.get('.error-list').text()).toBe('license: is required');
    // Opened again for the metadata errors, it shows those.
    await w.setProps({ open: false });
    await w.setProps({ tab: 'metadata', open: true });
    expect(w.get('[role=tab][aria-selected=true]').text()).toBe('Metadata (1)');
    w.unmount();
  });
});
