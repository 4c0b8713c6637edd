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
