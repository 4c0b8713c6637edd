import { describe, it, expect, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createRouter, createMemoryHistory } from 'vue-router';
import Pager from '../src/components/Pager.vue';
import SearchField from '../src/components/SearchField.vue';
import StarButton from '../src/components/StarButton.vue';
import { store } from '../src/lib/store.js';

function router() {
  const r = createRouter({ history: createMemoryHistory(), routes: [
    { path: '/', name: 'home', component: { template: '<div/>' } },
    { path: '/dandiset/search', name: 'searchDandisets', component: { template: '<div/>' } },
  ] });
  return r;
}

describe('Pager', () => {
  it('emits the page to go to and disables the ends', async () => {
    const w = mount(Pager, { props: { page: 1, pages: 3 } });
    expect(w.get('[aria-label="Previous page"]').attributes('disabled')).toBeDefined();
    await w.get('[aria-label="Next page"]').trigger('click');
    await w.get('[aria-label="Last page"]').trigger('click');
    expect(w.emitted('go')).toEqual([[2], [3]]);
  });
  it('renders nothing for one page', () => {
    expect(mount(Pager, { props: { page: 1, pages: 1 } }).find('nav').exists()).toBe(false);
  });
});

describe('SearchField', () => {
  it('offers operators and inserts the chosen one; submit goes to the search page', async () => {
    const r = router();
    r.push('/');
    await r.isReady();
    const w = mount(SearchField, { global: { plugins: [r] }, attachTo: document.body });
    const input = w.get('input');
    await input.trigger('focus');
    expect(w.findAll('[role=option]').length).toBe(11);
    input.element.value = 'spec';
    input.element.setSelectionRange(4, 4);
    await input.trigger('input');
    expect(w.findAll('[role=option]').map((o) => o.text())).toEqual([expect.stringContaining('species:')]);
    await input.trigger('keydown', { key: 'Enter' });
    expect(input.element.value).toBe('species:');
    input.element.value = 'mouse';
    await input.trigger('input');
    await w.get('form').trigger('submit');
    await new Promise((res) => setTimeout(res, 0));
    expect(r.currentRoute.value.name).toBe('searchDandisets');
    expect(r.currentRoute.value.query.search).toBe('mouse');
    w.unmount();
  });
});

describe('StarButton', () => {
  it('is read-only when logged out', () => {
    store.user = null;
    const w = mount(StarButton, { props: { identifier: '000001', count: 3, starred: false } });
    expect(w.get('button').attributes('disabled')).toBeDefined();
    expect(w.text()).toContain('3');
  });
  it('stars through the API and shows the new count', async () => {
    store.user = { username: 'u', approved: true };
    const fetchMock = vi.fn(async () => new Response('{"count": 4}', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    const w = mount(StarButton, { props: { identifier: '000001', count: 3, starred: false } });
    await w.get('button').trigger('click');
    await new Promise((res) => setTimeout(res, 0));
    expect(fetchMock.mock.calls[0][0]).toBe('/api/dandisets/000001/star/');
    expect(fetchMock.mock.calls[0][1].method).toBe('POST');
    expect(w.get('button').attributes('aria-pressed')).toBe('true');
    expect(w.get('.star-count').text()).toBe('4');
    vi.unstubAllGlobals();
    store.user = null;
  });
});

describe('CookieBanner', () => {
  it('shows until "Got it!", which sets the consent cookie for six months', async () => {
    const { default: CookieBanner } = await import('../src/components/CookieBanner.vue');
    document.cookie = 'dandi-cookie-consent=; max-age=0; path=/';
    const w = mount(CookieBanner);
    expect(w.text()).toContain('We use cookies to ensure you get the best experience on DANDI.');
    await w.get('button').trigger('click');
    expect(w.find('.cookie-banner').exists()).toBe(false);
    expect(document.cookie).toContain('dandi-cookie-consent=true');
    expect(mount(CookieBanner).find('.cookie-banner').exists()).toBe(false);
  });
});

describe('UploadDialog', () => {
  it('lists the picked files at their target paths and refuses a bad folder', async () => {
    const { default: UploadDialog } = await import('../src/components/UploadDialog.vue');
    HTMLDialogElement.prototype.showModal ||= function showModal() { this.open = true; };
    HTMLDialogElement.prototype.close ||= function close() { this.open = false; };
    const w = mount(UploadDialog, { props: { open: false, identifier: '000001', folder: 'sub-01/' }, attachTo: document.body });
    await w.setProps({ open: true });
    const input = w.get('#upload-files');
    const files = [new File(['abc'], 'a.nwb'), new File(['defg'], 'b.txt')];
    Object.defineProperty(input.element, 'files', { value: files });
    await input.trigger('change');
    expect(w.get('#upload-folder').element.value).toBe('sub-01');
    expect(w.findAll('.upload-path').map((x) => x.text())).toEqual(['sub-01/a.nwb', 'sub-01/b.txt']);
    expect(w.get('#upload-start').attributes('disabled')).toBeUndefined();
    await w.get('#upload-folder').setValue('a/../b');
    expect(w.get('[role=alert]').text()).toContain('..');
    expect(w.get('#upload-start').attributes('disabled')).toBeDefined();
    w.unmount();
  });
});
