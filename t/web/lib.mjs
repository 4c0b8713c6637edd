// Helpers for the browser tests: TAP output, a small API client and the
// upload flow dandi-cli uses (initialize, presigned part PUTs, complete,
// validate, then an asset in the draft).
import { createHash } from 'node:crypto';

export class Tap {
  constructor() { this.n = 0; this.failed = 0; }
  ok(cond, name, diag) {
    this.n++;
    if (cond) console.log(`ok ${this.n} - ${name}`);
    else {
      this.failed++;
      console.log(`not ok ${this.n} - ${name}`);
      if (diag) this.diag(diag);
    }
    return cond;
  }
  skip(name, reason) {
    this.n++;
    console.log(`ok ${this.n} - ${name} # SKIP ${reason}`);
  }
  diag(text) {
    for (const line of String(text).split('\n')) console.log(`# ${line}`);
  }
  // Runs one named step; an exception fails it with the message.
  async test(name, fn) {
    try {
      const r = await fn();
      return this.ok(r !== false, name);
    } catch (e) {
      return this.ok(false, name, e && e.stack ? e.stack.split('\n').slice(0, 6).join('\n') : String(e));
    }
  }
  plan() { console.log(`1..${this.n}`); }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
export function assertEq(got, want, msg) {
  if (got !== want) throw new Error(`${msg}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

export class Api {
  constructor(base, token) { this.base = base.replace(/\/+$/, ''); this.token = token; }
  async req(method, path, body, { token = this.token, query } = {}) {
    const url = new URL(path.startsWith('http') ? path : `${this.base}${path}`);
    for (const [k, v] of Object.entries(query || {})) url.searchParams.set(k, String(v));
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `token ${token}`;
    const init = { method, headers, redirect: 'manual' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    const res = await fetch(url, init);
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : null; } catch { json = undefined; }
    return { status: res.status, json, text, headers: res.headers };
  }
  async must(method, path, body, opts) {
    const r = await this.req(method, path, body, opts);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  }
  get(p, o) { return this.must('GET', p, undefined, o); }
  post(p, b, o) { return this.must('POST', p, b, o); }
  put(p, b, o) { return this.must('PUT', p, b, o); }
}

const MiB = 1024 * 1024;
export function partPlan(size) {
  if (size === 0) return [];
  let p = 64 * MiB;
  if (Math.ceil(size / p) >= 10000) p = Math.ceil(size / 10000);
  const n = Math.ceil(size / p);
  return Array.from({ length: n }, (_, i) => (i < n - 1 ? p : size - p * (n - 1)));
}

export function dandiEtag(bytes) {
  const parts = partPlan(bytes.length);
  if (!parts.length) return `${createHash('md5').update('').digest('hex')}-0`;
  let off = 0;
  const digests = parts.map((s) => { const d = createHash('md5').update(bytes.subarray(off, off + s)).digest(); off += s; return d; });
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
}

// Uploads bytes as an asset at path in the draft of dandiset id, with
// more asset metadata if given; returns the asset info.
export async function uploadAsset(api, id, path, bytes, metadata = {}) {
  const etag = dandiEtag(bytes);
  const init = await api.req('POST', '/api/uploads/initialize/', { contentSize: bytes.length, digest: { algorithm: 'dandi:dandi-etag', value: etag }, dandiset: id });
  let blobId;
  if (init.status === 409) {
    blobId = init.headers.get('location');
  } else {
    if (init.status !== 200) throw new Error(`initialize: ${init.status} ${init.text}`);
    const parts = [];
    let off = 0;
    for (const p of init.json.parts) {
      const res = await fetch(p.upload_url, { method: 'PUT', body: bytes.subarray(off, off + p.size) });
      if (res.status !== 200) throw new Error(`part ${p.part_number}: ${res.status} ${await res.text()}`);
      parts.push({ part_number: p.part_number, size: p.size, etag: (res.headers.get('etag') || '').replace(/"/g, '') });
      off += p.size;
    }
    const done = await api.post(`/api/uploads/${init.json.upload_id}/complete/`, { parts });
    const res = await fetch(done.complete_url, { method: 'POST', body: done.body });
    if (res.status !== 200) throw new Error(`complete at S3: ${res.status} ${await res.text()}`);
    const blob = await api.post(`/api/uploads/${init.json.upload_id}/validate/`);
    blobId = blob.blob_id;
  }
  return api.post(`/api/dandisets/${id}/versions/draft/assets/`, { blob_id: blobId, metadata: { ...metadata, path } });
}

// Screenshots are for people reading a run, never a check: on a loaded
// machine Chromium can take longer than the default 15 s to render a full
// page, so a slow one is noted and the test goes on.
export async function screenshot(page, path, opts = {}) {
  try {
    await page.screenshot({ path, timeout: 45000, animations: 'disabled', ...opts });
  } catch (e) {
    console.log(`# screenshot ${path} not taken: ${String(e && e.message || e).split('\n')[0]}`);
  }
}

// A new user through the app's login button: the OAuth server's sign-in
// page (loginUrl: what its URL must match), its sign-up form, then the
// questionnaire (first and last name, how DANDI will be used); the caller
// waits for the way back. onLogin and onQuestionnaire run on those pages
// (screenshots).
export async function signUp(page, { user, first, last, use = 'Browser tests', loginUrl = /\/accounts\/login\//,
  onLogin = async () => {}, onQuestionnaire = async () => {} }) {
  await page.goto('/dandiset');
  await page.locator('#login').click();
  await page.locator('#login-oauth').click();
  await page.waitForURL(loginUrl);
  await onLogin();
  await page.locator('#signup-link').click();
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('E-mail').fill(`${user}@example.edu`);
  await page.getByLabel('Password (at least 8 characters)').fill('a long enough password');
  await page.getByLabel('Password again').fill('a long enough password');
  await page.locator('#sign-up').click();
  await page.waitForURL(/\/api\/users\/questionnaire-form\//);
  await page.getByLabel('First Name').fill(first);
  await page.getByLabel('Last Name').fill(last);
  await page.getByLabel('What affiliation(s) do you have?').fill('Test University');
  await page.getByLabel('Lab/project website').fill('https://lab.example.edu');
  await page.getByLabel('How do you plan to use DANDI?').fill(use);
  await onQuestionnaire();
  await page.locator('#questionnaire-submit').click();
}
