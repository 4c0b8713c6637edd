// Loading one dandiset version with its version list and owners, shared by
// the landing page, the file browser and the metadata editor.
import { get, ApiError } from './api.js';
import { store } from './store.js';

// Returns { state: 'ready'|'notfound'|'embargoed', info, versions, owners }.
export async function loadDandiset(id, version) {
  let versions = [];
  try {
    const r = await get(`dandisets/${id}/versions/`, { page_size: 1000 });
    versions = r.results || [];
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return { state: 'embargoed' };
    if (e instanceof ApiError && e.status < 500) return { state: 'notfound' };
    throw e;
  }
  let v = version;
  if (!v) {
    const sorted = [...versions].sort((a, b) => String(b.created).localeCompare(String(a.created)));
    v = sorted.length ? sorted[0].version : 'draft';
  }
  let info;
  try {
    info = await get(`dandisets/${id}/versions/${v}/info/`);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return { state: 'embargoed' };
    if (e instanceof ApiError && e.status < 500) return { state: 'notfound', versions };
    throw e;
  }
  let owners = [];
  try {
    owners = await get(`dandisets/${id}/users/`);
  } catch { owners = []; }
  return { state: 'ready', info, versions, owners, version: v };
}

export function isOwner(owners) {
  const u = store.user;
  if (!u) return false;
  return u.admin === true || (owners || []).some((o) => o.username === u.username);
}

export const canEdit = (info, owners) => !!store.user && store.user.approved && info && info.version === 'draft' && isOwner(owners);

// Versions for the menu: draft first, then published ones, newest first.
export function sortVersions(versions) {
  return [...versions].sort((a, b) => {
    if (a.version === 'draft') return -1;
    if (b.version === 'draft') return 1;
    return String(b.version).localeCompare(String(a.version));
  });
}

// Why the Publish button is disabled, or '' when it is not: the first of
// the original's reasons that applies. s: { user, isDraft, owner,
// embargoStatus, status, publishing, versionErrors, assetErrors }. Zarr
// archives publish as snapshots (README: "Publishing zarr archives").
export function publishBlocker(s) {
  if (!s.user) return 'You must be logged in to edit.';
  if (!s.isDraft) return 'Only draft versions can be published.';
  if (!s.owner) return 'You do not have permission to publish this dandiset.';
  if (s.embargoStatus === 'UNEMBARGOING') return 'This dandiset is being unembargoed, please wait.';
  if (s.embargoStatus !== 'OPEN') return 'Embargoed dandisets cannot be published; unembargo it first.';
  if (s.publishing || s.status === 'Publishing') return 'This dandiset is being published, please wait.';
  if (s.status === 'Pending') return 'This dandiset has not yet been validated.';
  if (s.status === 'Validating') return 'Currently validating this dandiset.';
  if (s.status === 'Published') return 'No changes since last publish.';
  const nv = (s.versionErrors || []).length;
  const na = (s.assetErrors || []).length;
  if (nv || na) return `This dandiset has ${[nv && `${nv} metadata`, na && `${na} asset`].filter(Boolean).join(' and ')} validation error(s); fix them first.`;
  if (s.status !== 'Valid') return `The draft is ${s.status || 'not validated'}; only a Valid draft can be published.`;
  return '';
}

// Why the Unembargo button is disabled, or ''. Active uploads do not
// disable it: clicking then lists them so they can be cleared.
export function unembargoBlocker(s) {
  if (!s.user) return 'You must be logged in.';
  if (!s.owner) return 'Only owners can unembargo this dandiset.';
  if (s.embargoStatus === 'UNEMBARGOING') return 'This dandiset is being unembargoed, please wait.';
  if (s.embargoStatus !== 'EMBARGOED') return 'This dandiset is not embargoed.';
  return '';
}

// The CLI download commands for a version: by URL (any instance) and by
// identifier (<INSTANCE>:<id>/<version>, which the CLI resolves for the
// instances it knows).
export function downloadCommands(origin, instance, id, version) {
  const v = version || 'draft';
  return {
    url: `dandi download ${origin}/dandiset/${id}/${v}`,
    identifier: `dandi download ${instance}:${id}/${v}`,
  };
}
