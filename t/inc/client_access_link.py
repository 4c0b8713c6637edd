#!/usr/bin/env python3
"""`<INSTANCE>_API_KEY=<access link token> dandi download URL` as dandi-cli
(dandi/dandiapi.py, dandi/dandiarchive.py) makes its requests, with the
same HTTP library (requests): for t/65-access-links.t.

  client_access_link.py API_URL DANDISET VERSION     (the token: DANDI_API_KEY)

The client first asks without a key; on 401 it authenticates (the key
checked by GET /auth/token, then set as the session's `Authorization:
token <key>`), fetches the dandiset and its version, walks the asset list
by its next links and downloads each blob asset from /assets/{id}/download/
following the redirect to S3 (requests drops the Authorization header for
another host or port). Prints one JSON object {"first_status", "name",
"files": {path: sha256 of the bytes}}; exits 1 with the error otherwise.
"""
import hashlib
import json
import os
import sys

import requests


def main():
    api, dandiset, version = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    key = os.environ["DANDI_API_KEY"]
    s = requests.Session()
    s.headers["User-Agent"] = "dandi/0.74.0 requests/%s" % requests.__version__
    out = {}
    # navigate(): unauthenticated first; a 401 makes it authenticate.
    r = s.get(f"{api}/dandisets/{dandiset}/")
    out["first_status"] = r.status_code
    if r.status_code == 401:
        # authenticate(): "Fails if token is invalid"
        s.get(f"{api}/auth/token", headers={"Authorization": f"token {key}"}).raise_for_status()
        s.headers["Authorization"] = f"token {key}"
        r = s.get(f"{api}/dandisets/{dandiset}/")
    r.raise_for_status()
    r = s.get(f"{api}/dandisets/{dandiset}/versions/{version}/")
    r.raise_for_status()
    out["name"] = r.json()["name"]
    files = {}
    url, params = f"{api}/dandisets/{dandiset}/versions/{version}/assets/", {"order": "path"}
    while url:
        r = s.get(url, params=params)
        r.raise_for_status()
        page = r.json()
        for a in page["results"]:
            if a.get("blob") is None:
                continue
            d = s.get(f"{api}/assets/{a['asset_id']}/download/", stream=True, timeout=60)
            d.raise_for_status()
            h = hashlib.sha256()
            for chunk in d.iter_content(chunk_size=1 << 16):
                h.update(chunk)
            files[a["path"]] = h.hexdigest()
        url, params = page.get("next"), None
    out["files"] = files
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the test prints what failed
        print(json.dumps({"error": repr(e)}))
        sys.exit(1)
