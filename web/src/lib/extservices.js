// "Open with": the external viewers of GET /api/external-services/ (the
// server's instance configuration; the original web app's list by
// default), and the links they make from their URL templates, with the
// original app's placeholders ($dandiset_id$, $asset_url$, ...).
import { get, absoluteUrl, API_ROOT } from './api.js';

let loading = null;
// The lists, fetched once; { dandiset: [], asset: [] } when the server has none.
export function loadExternalServices() {
  if (!loading) {
    loading = get('external-services/', null, { auth: false })
      .catch(() => ({ dandiset: [], asset: [] }));
  }
  return loading;
}

const fill = (template, values) => template.replace(/\$([a-z_]+)\$/g, (m, k) => (k in values ? values[k] : m));

// The Neuroglancer viewer state of the original's link: the bucket URL as
// one image layer in the four-panel layout.
export function neuroglancerState(s3Url, assetId) {
  return encodeURIComponent(JSON.stringify({
    layers: [{ type: 'image', source: s3Url, tab: 'rendering', name: assetId }],
    selectedLayer: { visible: true, layer: assetId },
    layout: '4panel',
  }));
}

export function dandisetLinks(services, { dandisetId, version }) {
  return ((services && services.dandiset) || []).map((s) => ({
    name: s.name,
    url: fill(s.endpoint, { dandiset_id: dandisetId, dandiset_version: version }),
  }));
}

// row: an item of /assets/paths/ (path, aggregate_size, asset {asset_id, url}).
export function assetLinks(services, row, { dandisetId, version, embargoed }) {
  if (!row || !row.asset) return [];
  const metadataUrl = absoluteUrl(`${API_ROOT}assets/${row.asset.asset_id}/`);
  const dandiUrl = `${metadataUrl}download/`;
  const s3Url = String(row.asset.url || '').replace(/\/+$/, '');
  const values = {
    dandiset_id: dandisetId,
    dandiset_version: version,
    // The bucket's URL when the viewer can read it; an embargoed object
    // only through the archive (which checks who asks).
    asset_url: embargoed ? dandiUrl : s3Url,
    asset_dandi_url: dandiUrl,
    asset_dandi_metadata_url: metadataUrl,
    asset_s3_url: s3Url,
    asset_path: row.path,
    neuroglancer_state: neuroglancerState(s3Url, row.asset.asset_id),
  };
  return ((services && services.asset) || []).filter((s) => {
    if (s.public_only && embargoed) return false;
    if (s.maxsize != null && row.aggregate_size > s.maxsize) return false;
    try {
      return new RegExp(s.regex).test(row.path);
    } catch {
      return false; // a pattern this browser cannot compile offers nothing
    }
  }).map((s) => ({ name: s.name, url: fill(s.endpoint, values) }));
}
