#!/usr/bin/env python3
"""emit_fuzz.py EMIT_TOOL SEED COUNT - random JSON documents full of
awkward strings (look-alikes of numbers, bools, nulls and dates, YAML
indicators, line breaks, tabs, non-ASCII, characters outside the BMP,
long text to fold), written by emit-tool and compared with what Python
writes: json.dumps as DRF renders it, yaml.dump with CSafeDumper, and the
original's "- "-prefixed assets.yaml entries. Prints "ok MODE" or
"not ok MODE: ..." per mode."""
import json
import random
import subprocess
import sys

import yaml

tool, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
ATOMS = ['', ' ', 'a', 'yes', 'No', 'null', '~', 'true', '1', '1.0', '0.210812.1448', '1e5', '-', '- a', ':',
         'a:', 'a: b', 'a:b', '#', 'a #b', 'a#b', '@context', '---', '...', '0x1F', '012', '1_000', '12:30',
         '2021-01-01', '2021-01-01T12:00:00.123456+00:00', '=', '<<', '!', '&', '*', '%', '`', '|', '>', "'",
         '"', "it's", 'say "hi"', 'back\\slash', '\t', 'line1\nline2', 'trail\n', '\nlead', 'a \nb', 'a\n b',
         'a\n\nb', 'h\u00e9llo', '\u65e5\u672c', '\U0001F600', '\u2028', 'x\u2029y', '\u00a0', '\x85', '\ufeff',
         '\x7f', '\x01', '\r\n', 'a  b', ' lead', 'trail ', '[x]', '{x}', 'a,b', '?x', '? x', '.inf', '.nan',
         '.5', '+1', 'on', 'OFF', 'https://example.org/x?y=1#z', 'x' * 130, 'word ' * 40,
         ('w' * 79) + ' ' + 'next', ('w' * 81) + '  two', "q'uote " * 20, '\u00e9 ' * 60, '"dq" \t ' * 15]


def scalar():
    r = rnd.random()
    if r < 0.7:
        s = rnd.choice(ATOMS)
        return s + rnd.choice(ATOMS) if rnd.random() < 0.3 else s
    if r < 0.78:
        return rnd.randint(-10**12, 10**12)
    if r < 0.86:
        return rnd.choice([0.0, -0.0, 1.5, 1e-05, 1e16, 1e15, 0.1, 1 / 3, 2.5e-300, 1e22, 100.0, 0.0001])
    if r < 0.93:
        return rnd.choice([True, False])
    return None


def value(depth=0):
    r = rnd.random()
    if depth > 3 or r < 0.45:
        return scalar()
    if r < 0.72:
        return {(rnd.choice(ATOMS) if rnd.random() < 0.5 else 'k%d' % rnd.randint(0, 9)): value(depth + 1)
                for _ in range(rnd.randint(0, 4))}
    return [value(depth + 1) for _ in range(rnd.randint(0, 4))]


def ydump(o):
    return yaml.dump(o, Dumper=yaml.CSafeDumper, allow_unicode=True)


docs = [{'root': value(), rnd.choice(ATOMS): value(), 'list': [value() for _ in range(3)]} for _ in range(count)]
expect = {
    'json': lambda d: json.dumps(d, ensure_ascii=False, allow_nan=False, separators=(',', ':'))
    .replace('\u2028', '\\u2028').replace('\u2029', '\\u2029'),
    'yaml': ydump,
    'seq': lambda d: ''.join(('- ' if i == 0 else '  ') + line + '\n' for i, line in enumerate(ydump(d).splitlines())),
}
stdin = ''.join(json.dumps(d) + '\n' for d in docs).encode()
for mode, want in expect.items():
    got = subprocess.run([tool, mode], input=stdin, capture_output=True, check=True).stdout.split(b'\0')[:-1]
    bad = [(d, g.decode(), want(d)) for d, g in zip(docs, got) if g.decode() != want(d)]
    if len(got) != len(docs):
        print('not ok %s: %d outputs for %d documents' % (mode, len(got), len(docs)))
    elif bad:
        print('not ok %s: %d of %d differ, first %r: got %r want %r' % ((mode, len(bad), len(docs)) + bad[0]))
    else:
        print('ok %s' % mode)
