#!/usr/bin/env python3
"""manifest_check.py DIR - checks the five manifest files in DIR against
what the API serves (version.json: the version's metadata as the API
returns it; assets-NNN.json: the pages of its asset list with metadata, in
order). The expected bytes are made the way the original archive makes
them: DRF's JSONRenderer for .jsonld, PyYAML's CSafeDumper for .yaml.
Prints TAP-like lines "ok NAME" / "not ok NAME: DETAIL" for t/88."""
import glob
import json
import os
import sys

import yaml

d = sys.argv[1]


def render(o):
    return json.dumps(o, ensure_ascii=False, allow_nan=False, separators=(',', ':')) \
        .replace('\u2028', '\\u2028').replace('\u2029', '\\u2029')


def canon(o):
    return json.dumps(o, sort_keys=True)


def ydump(o):
    return yaml.dump(o, Dumper=yaml.CSafeDumper, allow_unicode=True)


def read(name):
    with open(os.path.join(d, name), 'rb') as f:
        return f.read().decode('utf-8')


def check(name, got, want):
    if got == want:
        print('ok ' + name)
        return
    n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    print('not ok %s: differs at %d (got %d, want %d chars): got %r want %r'
          % (name, n, len(got), len(want), got[max(0, n - 40):n + 40], want[max(0, n - 40):n + 40]))


md = json.loads(read('version.json'))
assets = []
for page in sorted(glob.glob(os.path.join(d, 'assets-*.json'))):
    with open(page, 'rb') as f:
        assets += [a['metadata'] for a in json.loads(f.read().decode('utf-8'))['results']]
ids = [a['identifier'] for a in assets]

check('dandiset.jsonld is the version metadata (compact JSON)', read('dandiset.jsonld'), render(md))
check('dandiset.yaml is the version metadata (YAML)', read('dandiset.yaml'), ydump(md))
check('dandiset.yaml reads back as the metadata', canon(yaml.safe_load(read('dandiset.yaml'))), canon(md))
check('assets.jsonld lists the assets\' metadata in order', read('assets.jsonld'),
      '[' + ','.join(render(a) for a in assets) + ']')
check('assets.yaml is the YAML sequence of the assets\' metadata', read('assets.yaml'),
      ''.join(('- ' if i == 0 else '  ') + line + '\n'
              for a in assets for i, line in enumerate(ydump(a).splitlines())))
check('assets.yaml reads back as the asset list', canon(yaml.safe_load(read('assets.yaml')) or []), canon(assets))
check('collection.jsonld names every asset', read('collection.jsonld'),
      render({'@context': md.get('@context'), 'id': md.get('id'), '@type': 'prov:Collection',
              'hasMember': ['dandiasset:' + i for i in ids]}))
print('# assets: %d' % len(assets))
