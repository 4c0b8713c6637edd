import { describe, it, expect } from 'vitest';
import { publishBlocker, unembargoBlocker, downloadCommands } from '../src/lib/dandiset.js';

const ok = { user: { username: 'a' }, isDraft: true, owner: true, embargoStatus: 'OPEN', status: 'Valid', publishing: false, hasZarr: false, versionErrors: [], assetErrors: [] };

describe('publish button', () => {
  it('is enabled for an owner of a Valid, open draft without errors', () => {
    expect(publishBlocker(ok)).toBe('');
  });
  it('gives the first reason that applies, in the original order', () => {
    expect(publishBlocker({ ...ok, user: null })).toMatch(/logged in/);
    expect(publishBlocker({ ...ok, isDraft: false })).toMatch(/Only draft versions/);
    expect(publishBlocker({ ...ok, owner: false })).toMatch(/permission/);
    expect(publishBlocker({ ...ok, embargoStatus: 'UNEMBARGOING' })).toMatch(/being unembargoed/);
    expect(publishBlocker({ ...ok, embargoStatus: 'EMBARGOED' })).toMatch(/Embargoed/);
    expect(publishBlocker({ ...ok, status: 'Publishing' })).toMatch(/being published/);
    expect(publishBlocker({ ...ok, publishing: true })).toMatch(/being published/);
    expect(publishBlocker({ ...ok, status: 'Pending' })).toBe('This dandiset has not yet been validated.');
    expect(publishBlocker({ ...ok, status: 'Validating' })).toBe('Currently validating this dandiset.');
    expect(publishBlocker({ ...ok, status: 'Published' })).toBe('No changes since last publish.');
    expect(publishBlocker({ ...ok, hasZarr: true })).toBe(''); // zarr dandisets publish (as snapshots)
  });
  it('names the validation errors, and refuses anything but Valid', () => {
    expect(publishBlocker({ ...ok, versionErrors: [{}, {}] })).toMatch(/2 metadata validation error/);
    expect(publishBlocker({ ...ok, assetErrors: [{}] })).toMatch(/1 asset validation error/);
    expect(publishBlocker({ ...ok, versionErrors: [{}], assetErrors: [{}] })).toMatch(/1 metadata and 1 asset/);
    expect(publishBlocker({ ...ok, status: 'Invalid' })).toMatch(/Invalid/);
  });
  it('puts logged-out before embargo before status', () => {
    expect(publishBlocker({ ...ok, user: null, embargoStatus: 'EMBARGOED', status: 'Pending' })).toMatch(/logged in/);
    expect(publishBlocker({ ...ok, embargoStatus: 'EMBARGOED', status: 'Pending' })).toMatch(/Embargoed/);
  });
});

describe('unembargo button', () => {
  const e = { user: { username: 'a' }, owner: true, embargoStatus: 'EMBARGOED' };
  it('is enabled only for owners of an EMBARGOED dandiset', () => {
    expect(unembargoBlocker(e)).toBe('');
    expect(unembargoBlocker({ ...e, owner: false })).toMatch(/owners/);
    expect(unembargoBlocker({ ...e, user: null })).toMatch(/logged in/);
    expect(unembargoBlocker({ ...e, embargoStatus: 'UNEMBARGOING' })).toMatch(/please wait/);
    expect(unembargoBlocker({ ...e, embargoStatus: 'OPEN' })).toMatch(/not embargoed/);
  });
});

describe('download commands', () => {
  it('by URL and by identifier', () => {
    const c = downloadCommands('https://x.org', 'DANDI', '000123', '0.250101.1200');
    expect(c.url).toBe('dandi download https://x.org/dandiset/000123/0.250101.1200');
    expect(c.identifier).toBe('dandi download DANDI:000123/0.250101.1200');
    expect(downloadCommands('https://x.org', 'DANDI', '000123').identifier).toBe('dandi download DANDI:000123/draft');
  });
});
