import { describe, it, expect } from 'vitest';
import { dandisetLinks, assetLinks, neuroglancerState } from '../src/lib/extservices.js';

const SERVICES = {
  dandiset: [{ name: 'Neurosift', endpoint: 'https://neurosift.app/dandiset/$dandiset_id$?dandisetVersion=$dandiset_version$' }],
  asset: [
    { name: 'NWB Explorer', regex: '\\.nwb$', maxsize: 1000, endpoint: 'http://x.example/nwbfile=$asset_url$' },
    { name: 'Neurosift', regex: '\\.nwb$', maxsize: null, endpoint: 'https://n.example/nwb?url=$asset_dandi_url$&p=$asset_path$' },
    { name: 'Neuroglancer', regex: '\\.zarr$', maxsize: null, public_only: true, endpoint: 'https://ng.example/#!$neuroglancer_state$' },
    { name: 'Broken', regex: '(', maxsize: null, endpoint: 'https://b.example/' },
  ],
};
const row = (path, size, url = 'https://s3.example/b/blobs/abc/') => ({ path, aggregate_size: size, asset: { asset_id: 'a-1', url } });
const ctx = { dandisetId: '000123', version: 'draft', embargoed: false };

describe('Open with links', () => {
  it('fills the dandiset templates', () => {
    expect(dandisetLinks(SERVICES, ctx)).toEqual([{ name: 'Neurosift', url: 'https://neurosift.app/dandiset/000123?dandisetVersion=draft' }]);
  });

  it('matches a file by its path and size, with the bucket URL (no trailing slash)', () => {
    const l = assetLinks(SERVICES, row('sub-1/a.nwb', 10), ctx);
    expect(l.map((x) => x.name)).toEqual(['NWB Explorer', 'Neurosift']);
    expect(l[0].url).toBe('http://x.example/nwbfile=https://s3.example/b/blobs/abc');
    expect(l[1].url).toMatch(/^https:\/\/n\.example\/nwb\?url=http:\/\/localhost(:\d+)?\/api\/assets\/a-1\/download\/&p=sub-1\/a\.nwb$/);
  });

  it('leaves out a viewer over its size limit, other file types and folders', () => {
    expect(assetLinks(SERVICES, row('a.nwb', 1001), ctx).map((x) => x.name)).toEqual(['Neurosift']);
    expect(assetLinks(SERVICES, row('a.txt', 1), ctx)).toEqual([]);
    expect(assetLinks(SERVICES, { path: 'sub-1', aggregate_size: 1, asset: null }, ctx)).toEqual([]);
  });

  it('gives embargoed files the archive URL and no public-only viewer', () => {
    const l = assetLinks(SERVICES, row('a.nwb', 1), { ...ctx, embargoed: true });
    expect(l[0].url).toMatch(/nwbfile=http:\/\/localhost(:\d+)?\/api\/assets\/a-1\/download\/$/);
    expect(assetLinks(SERVICES, row('x.zarr', 1), { ...ctx, embargoed: true })).toEqual([]);
    expect(assetLinks(SERVICES, row('x.zarr', 1), ctx).map((x) => x.name)).toEqual(['Neuroglancer']);
  });

  it('puts the Neuroglancer viewer state in the fragment', () => {
    const s = JSON.parse(decodeURIComponent(neuroglancerState('https://s3.example/z', 'a-1')));
    expect(s).toEqual({ layers: [{ type: 'image', source: 'https://s3.example/z', tab: 'rendering', name: 'a-1' }],
      selectedLayer: { visible: true, layer: 'a-1' }, layout: '4panel' });
  });
});
