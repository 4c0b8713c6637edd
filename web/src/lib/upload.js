// Uploading a file from the browser the way the dandi CLI does: the
// dandi-etag (md5 of each part's md5 digests, "-<parts>") is computed
// first, /api/uploads/initialize/ answers presigned part URLs, each part
// goes straight to S3, /complete/ gives the signed CompleteMultipartUpload
// that is posted to S3, /validate/ turns the upload into a blob, and the
// blob becomes an asset of the draft at the chosen path.
import { Md5, toHex } from './md5.js';
import { authHeader } from './auth.js';
import { API_ROOT, ApiError, errorText } from './api.js';

const MiB = 1024 * 1024;
export const PART_SIZE = 64 * MiB; // dandischema's default part size
export const MAX_PARTS = 10000;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
export const MAX_FILE = 5 * 1024 * 1024 * MiB; // 5 TiB, S3's object limit
export const EMPTY_ETAG = 'd41d8cd98f00b204e9800998ecf8427e-0';

// The part sizes of a file of size bytes: 64 MiB parts, larger when that
// would take 10,000 parts or more; the last part holds the rest. Zero
// bytes have no parts. Throws for sizes S3 cannot hold.
export function partPlan(size) {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad file size ${size}`);
  if (size > MAX_FILE) throw new Error('The file is larger than the S3 maximum object size (5 TiB).');
  if (size === 0) return [];
  let ps = PART_SIZE;
  if (Math.ceil(size / ps) >= MAX_PARTS) ps = Math.ceil(size / MAX_PARTS);
  if (ps < MIN_PART || ps > MAX_PART) throw new Error('No part size fits this file.');
  const n = Math.ceil(size / ps);
  return Array.from({ length: n }, (_, i) => (i < n - 1 ? ps : size - ps * (n - 1)));
}

// The dandi-etag from the parts' md5 digests (Uint8Array(16) each).
export function etagFromDigests(digests) {
  if (!digests.length) return EMPTY_ETAG;
  const h = new Md5();
  for (const d of digests) h.update(d);
  return `${toHex(h.digest())}-${digests.length}`;
}

// Reads a Blob (a File) slice as bytes; FileReader where Blob#arrayBuffer
// is missing (older engines, jsdom).
function readSlice(blob, start, end) {
  const s = blob.slice(start, end);
  if (typeof s.arrayBuffer === 'function') return s.arrayBuffer().then((b) => new Uint8Array(b));
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(new Uint8Array(r.result));
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(s);
  });
}

// md5 of every part and the dandi-etag of a Blob, read in chunks of at
// most chunk bytes; onBytes(n) after each chunk. Returns { parts, digests, etag }.
export async function computeEtag(blob, { chunk = 8 * MiB, onBytes, signal } = {}) {
  const parts = partPlan(blob.size);
  const digests = [];
  let off = 0;
  for (const size of parts) {
    const h = new Md5();
    for (let p = 0; p < size; p += chunk) {
      if (signal && signal.aborted) throw new DOMException('Upload cancelled', 'AbortError');
      const bytes = await readSlice(blob, off + p, off + Math.min(size, p + chunk));
      h.update(bytes);
      if (onBytes) onBytes(bytes.length);
    }
    digests.push(h.digest());
    off += size;
  }
  return { parts, digests, etag: etagFromDigests(digests) };
}

// A folder path and a file name as an asset path: no leading, trailing or
// doubled slashes, no "." or ".." segments. Throws with a message for a
// path the archive would refuse.
export function assetPath(folder, name) {
  const segs = `${folder || ''}/${name || ''}`.split('/').filter((s) => s !== '');
  if (!segs.length || !name) throw new Error('A file name is needed.');
  if (segs.some((s) => s === '.' || s === '..')) throw new Error('A path may not contain "." or ".." folders.');
  // eslint-disable-next-line no-control-regex
  if (segs.some((s) => /[\x00-\x1f\\]/.test(s))) throw new Error('A path may not contain backslashes or control characters.');
  return segs.join('/');
}

// The encodingFormat the CLI would give a file, from its name.
export function encodingFormat(name, type = '') {
  const n = String(name).toLowerCase();
  if (n.endsWith('.nwb')) return 'application/x-nwb';
  if (n.endsWith('.json')) return 'application/json';
  if (n.endsWith('.tsv')) return 'text/tab-separated-values';
  if (n.endsWith('.txt') || n.endsWith('.md') || /(^|\/)(readme|changes|license)$/.test(n)) return 'text/plain';
  if (n.endsWith('.nii.gz')) return 'application/x-nii+gzip';
  return type || 'application/octet-stream';
}

async function apiFetch(path, body) {
  const res = await fetch(API_ROOT + path, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...authHeader() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch { /* keep text */ }
  return { res, data };
}
const fail = (path, r) => new ApiError(r.res.status, r.data, API_ROOT + path);

// One PUT of bytes to a presigned URL with upload progress (fetch has
// none); resolves with the ETag S3 answered, when CORS lets us read it.
function putPart(url, body, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', url);
    x.upload.onprogress = (e) => { if (onProgress) onProgress(e.loaded); };
    x.onload = () => {
      if (x.status >= 200 && x.status < 300) resolve((x.getResponseHeader('ETag') || '').replace(/"/g, ''));
      else reject(Object.assign(new Error(`S3 answered ${x.status} to a part upload`), { status: x.status }));
    };
    x.onerror = () => reject(new Error('The part upload to S3 failed (network or CORS).'));
    x.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    if (signal) signal.addEventListener('abort', () => x.abort(), { once: true });
    x.send(body);
  });
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

// The ETag of a CompleteMultipartUploadResult (the answer to the POST to
// complete_url), quotes removed; null when it has none. Read as the dandi
// client reads it: a child ETag of the root element, in any namespace.
export function completionEtag(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) throw new Error('The upload completion did not answer XML.');
  for (const el of Array.from(doc.documentElement.children)) {
    if (el.localName === 'ETag') return el.textContent.replace(/^"+|"+$/g, '');
  }
  return null;
}

// Uploads file into the draft of dandiset id at path. onProgress({ phase:
// 'hash'|'upload'|'finish', done, total }). Resolves with the new asset.
export async function uploadFile(id, file, path, { onProgress, signal } = {}) {
  // As DANDI: an empty file has no part to send (initialize refuses it).
  if (file.size === 0) throw new Error('Empty files cannot be uploaded.');
  const progress = (phase, done) => { if (onProgress) onProgress({ phase, done, total: file.size }); };
  let hashed = 0;
  progress('hash', 0);
  const { digests, etag } = await computeEtag(file, { signal, onBytes: (n) => { hashed += n; progress('hash', hashed); } });

  let blobId;
  const init = await apiFetch('uploads/initialize/', { contentSize: file.size, digest: { algorithm: 'dandi:dandi-etag', value: etag }, dandiset: id });
  if (init.res.status === 409) {
    // The archive already holds these bytes: reuse the blob.
    blobId = init.res.headers.get('Location');
    if (!blobId) {
      const b = await apiFetch('blobs/digest/', { algorithm: 'dandi:dandi-etag', value: etag });
      if (!b.res.ok) throw fail('blobs/digest/', b);
      blobId = b.data.blob_id;
    }
    progress('upload', file.size);
  } else {
    if (!init.res.ok) throw fail('uploads/initialize/', init);
    const { upload_id: uploadId, parts } = init.data;
    const sent = [];
    let off = 0;
    let base = 0;
    for (const p of parts) {
      const body = file.slice(off, off + p.size);
      let tag = '';
      for (let attempt = 1; ; attempt++) {
        try {
          tag = await putPart(p.upload_url, body, { signal, onProgress: (n) => progress('upload', base + n) });
          break;
        } catch (e) {
          if ((e && e.name === 'AbortError') || attempt >= 3 || (e.status && e.status < 500)) throw e;
          await sleep(500 * attempt);
        }
      }
      const d = digests[p.part_number - 1];
      sent.push({ part_number: p.part_number, size: p.size, etag: tag || (d ? toHex(d) : 'd41d8cd98f00b204e9800998ecf8427e') });
      off += p.size;
      base += p.size;
      progress('upload', base);
    }
    progress('finish', file.size);
    const done = await apiFetch(`uploads/${uploadId}/complete/`, { parts: sent });
    if (!done.res.ok) throw fail(`uploads/${uploadId}/complete/`, done);
    const s3 = await fetch(done.data.complete_url, { method: 'POST', body: done.data.body, signal });
    const xml = await s3.text();
    if (!s3.ok || /<Error>/.test(xml)) throw new Error(`S3 did not complete the upload (${s3.status}).`);
    // The dandi client's check: an ETag in the answer must be ours.
    const final = completionEtag(xml);
    if (final !== null && final !== etag) throw new Error(`The upload completed with ETag ${final || '(empty)'}, not ${etag}.`);
    // S3 may take a moment to show the finished object.
    for (let attempt = 1; ; attempt++) {
      const v = await apiFetch(`uploads/${uploadId}/validate/`);
      if (v.res.ok) { blobId = v.data.blob_id; break; }
      if (v.res.status === 409) {
        const b = await apiFetch('blobs/digest/', { algorithm: 'dandi:dandi-etag', value: etag });
        if (!b.res.ok) throw fail('blobs/digest/', b);
        blobId = b.data.blob_id;
        break;
      }
      if (v.res.status !== 400 || attempt >= 5) throw fail(`uploads/${uploadId}/validate/`, v);
      await sleep(400 * attempt);
    }
  }
  progress('finish', file.size);
  const apath = `dandisets/${id}/versions/draft/assets/`;
  const a = await apiFetch(apath, { blob_id: blobId, metadata: { schemaKey: 'Asset', path, encodingFormat: encodingFormat(path, file.type) } });
  if (!a.res.ok) {
    if (a.res.status === 409) throw new Error(`${path}: ${errorText(a.data) || 'an asset with that path already exists'}`);
    throw fail(apath, a);
  }
  return a.data;
}
