#!/usr/bin/env python3
"""The API traffic of the real clients, replayed from one address at full
speed, for t/52-limits.t: every answer's status is tallied so the test can
show that nginx's request limits (conf/nginx/dandi-site.conf.in) never
throttle them. Python's standard library only; no retries (a 429 must show).

  client_replay.py API_URL TOKEN DANDISET web
      the web app: the home page, a dandiset's landing page (its calls in
      parallel, six at a time as a browser's connections to one host) and
      five folders of its file browser
  client_replay.py API_URL TOKEN DANDISET paginate
      dandi-cli's RESTFullAPIClient.paginate of the draft's assets: page 1,
      then every other page with 5 threads (page_workers)
  client_replay.py API_URL TOKEN DANDISET upload N
      `dandi upload` of N small files, 5 at a time (-J 5), each with the
      client's calls: the asset at its path, initialize, the part PUT to S3
      (not the API), complete, the complete_url POST, validate, the asset
  client_replay.py API_URL TOKEN DANDISET download N
      `dandi download`: the asset list (paginate), then for N assets the
      metadata GET in one thread while 6 jobs (-J 6) GET each one's
      download URL (the 302 to S3 is not followed: S3 is not the API);
      REPLAY_PACE=R in the environment: at most R assets a second

API_URL ends in /api. Prints one JSON line {"requests", "seconds",
"status": {code: count}, "errors": [...]} and exits 0, or 1 when any
answer was not what the client expects.
"""
import hashlib
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)
LOCK = threading.Lock()
STATUS = {}
ERRORS = []


def call(method, url, body=None, headers=None, api=True, want=(200,)):
    """(status, parsed JSON or raw bytes, headers); tallies API answers."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=120) as r:
            st, data, h = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        st, data, h = e.code, e.read(), e.headers
    if api:
        with LOCK:
            STATUS[st] = STATUS.get(st, 0) + 1
    if st not in want:
        with LOCK:
            ERRORS.append(f"{method} {url[:120]}: {st} {data[:200]!r}")
    if "json" in (h.get("Content-Type") or ""):
        try:
            return st, json.loads(data), h
        except ValueError:
            pass
    return st, data, h


def main():
    api, token, dandiset, what = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    auth = {"Authorization": f"token {token}", "User-Agent": "dandi/0.76 (replay)",
            "accept": "application/json"}
    jsonh = dict(auth, **{"Content-Type": "application/json"})
    draft = f"{api}/dandisets/{dandiset}/versions/draft"

    def get(path, params=None, **kw):
        q = "?" + urllib.parse.urlencode(params) if params else ""
        return call("GET", (path if path.startswith("http") else api + path) + q, headers=auth, **kw)[1]

    def post(path, obj=None, **kw):
        body = None if obj is None else json.dumps(obj).encode()
        return call("POST", api + path, body, jsonh, **kw)

    def paginate(path, params=None):
        """dandi-cli's paginate: the first page, then the others 5 at a time."""
        first = get(path, params)
        results = list(first["results"])
        if first["next"] is None:
            return results
        pages = (first["count"] + len(first["results"]) - 1) // len(first["results"])

        def page(p):
            return get(path, dict(params or {}, page=p))["results"]

        with ThreadPoolExecutor(max_workers=5) as pool:
            for r in pool.map(page, range(2, pages + 1)):
                results.extend(r)
        if len(results) != first["count"]:
            ERRORS.append(f"paginate {path}: {len(results)} results of {first['count']}")
        return results

    t0 = time.monotonic()
    if what == "web":
        # The home page, then the landing page's calls as the browser makes
        # them (web/src/views/LandingView.vue, lib/dandiset.js, lib/store.js).
        for p, q in (("/info/", None), ("/stats/", None), ("/users/me/", None)):
            get(p, q)
        ds = f"/dandisets/{dandiset}"
        landing = [("/info/", None), ("/users/me/", None), (f"{ds}/", None),
                   (f"{ds}/versions/", {"page_size": 1000}), (f"{ds}/versions/draft/info/", None),
                   (f"{ds}/users/", None), ("/stats/downloads/", {"dandiset": dandiset}),
                   (f"{ds}/versions/draft/assets/", {"zarr": "true", "page_size": 1}),
                   (f"{ds}/versions/draft/assets/paths/", {"path_prefix": "", "page": 1, "page_size": 100})]
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda a: get(*a), landing))
        for folder in ("sub-0000", "sub-0001", "sub-0002", "sub-0003", "sub-0004"):
            get(f"{ds}/versions/draft/assets/paths/", {"path_prefix": folder, "page": 1, "page_size": 100})
    elif what == "paginate":
        paginate(f"/dandisets/{dandiset}/versions/draft/assets/")
    elif what == "upload":
        def upload(i):
            content = os.urandom(1000 + i)
            md5 = hashlib.md5(content).digest()
            etag = hashlib.md5(md5).hexdigest() + "-1"
            path = f"replay-{os.getpid()}/file{i:04d}.dat"
            get(f"/dandisets/{dandiset}/versions/draft/assets/", {"path": path, "order": "path"})
            st, resp, h = post("/uploads/initialize/", {"contentSize": len(content), "dandiset": dandiset,
                               "digest": {"algorithm": "dandi:dandi-etag", "value": etag}})
            if st != 200:
                return
            part = resp["parts"][0]
            st, _, h = call("PUT", part["upload_url"], content, {"User-Agent": auth["User-Agent"]}, api=False)
            parts = [{"part_number": 1, "size": len(content), "etag": (h.get("ETag") or "").strip('"')}]
            st, resp2, _ = post(f"/uploads/{resp['upload_id']}/complete/", {"parts": parts})
            if st != 200:
                return
            # complete_url is the API's own (s3_multipart_complete = archive)
            # or S3's; either way the client POSTs the body without credentials.
            call("POST", resp2["complete_url"], resp2["body"].encode(), {"User-Agent": auth["User-Agent"]},
                 api=resp2["complete_url"].startswith(api))
            st, v, _ = post(f"/uploads/{resp['upload_id']}/validate/")
            if st != 200:
                return
            post(f"/dandisets/{dandiset}/versions/draft/assets/", {"blob_id": v["blob_id"], "metadata": {
                "schemaKey": "Asset", "path": path, "contentSize": len(content),
                "encodingFormat": "application/octet-stream", "digest": {"dandi:dandi-etag": etag}}})

        with ThreadPoolExecutor(max_workers=5) as pool:
            list(pool.map(upload, range(n)))
    elif what == "download":
        assets = paginate(f"/dandisets/{dandiset}/versions/draft/assets/")[:n]

        def job(a):
            get(f"/assets/{a['asset_id']}/download/", want=(302,))

        pace = float(os.environ.get("REPLAY_PACE") or 0)
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = []
            for i, a in enumerate(assets):	# the generator: each asset's metadata, in turn
                if pace:
                    time.sleep(max(0.0, start + i / pace - time.monotonic()))
                get(f"/dandisets/{dandiset}/versions/draft/assets/{a['asset_id']}/")
                futures.append(pool.submit(job, a))
            for f in futures:
                f.result()
    else:
        sys.exit(f"unknown pattern {what}")
    out = {"requests": sum(STATUS.values()), "seconds": round(time.monotonic() - t0, 2),
           "status": {str(k): v for k, v in sorted(STATUS.items())}, "errors": ERRORS[:10]}
    print(json.dumps(out))
    sys.exit(1 if ERRORS else 0)


if __name__ == "__main__":
    main()
