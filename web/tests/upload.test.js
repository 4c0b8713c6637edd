import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { Md5, md5Hex, toHex } from '../src/lib/md5.js';
import { partPlan, etagFromDigests, computeEtag, assetPath, encodingFormat, completionEtag, EMPTY_ETAG, PART_SIZE } from '../src/lib/upload.js';

const MiB = 1024 * 1024;
const nodeMd5 = (b) => createHash('md5').update(b).digest('hex');
function bytes(n, seed = 1) {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

describe('md5', () => {
  it('matches the RFC 1321 test suite', () => {
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5Hex('a')).toBe('0cc175b9c0f1b6a831c399e269772661');
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    expect(md5Hex('abcdefghijklmnopqrstuvwxyz')).toBe('c3fcd3d76192e4007dfb496cca67e13b');
    expect(md5Hex('12345678901234567890123456789012345678901234567890123456789012345678901234567890')).toBe('57edf4a22be3c955ac49da2e2107b67a');
  });
  it('matches node:crypto at every length around the block and padding edges', () => {
    const b = bytes(300, 7);
    for (let n = 0; n <= 300; n++) expect(md5Hex(b.subarray(0, n))).toBe(nodeMd5(b.subarray(0, n)));
  });
  it('gives the same digest however the input is split', () => {
    const b = bytes(100000, 3);
    const want = nodeMd5(b);
    for (const step of [1, 3, 63, 64, 65, 1000, 4097]) {
      const h = new Md5();
      for (let i = 0; i < b.length; i += step) h.update(b.subarray(i, i + step));
      expect(toHex(h.digest())).toBe(want);
    }
  });
});

describe('part plan', () => {
  it('uses 64 MiB parts and puts the rest in the last one, as the CLI and the server', () => {
    expect(partPlan(0)).toEqual([]);
    expect(partPlan(1)).toEqual([1]);
    expect(partPlan(PART_SIZE)).toEqual([PART_SIZE]);
    expect(partPlan(PART_SIZE + 1)).toEqual([PART_SIZE, 1]);
    expect(partPlan(3 * PART_SIZE - 5)).toEqual([PART_SIZE, PART_SIZE, PART_SIZE - 5]);
  });
  it('grows the part size so a file never needs 10,000 parts', () => {
    const size = 10000 * PART_SIZE; // would be exactly 10,000 parts of 64 MiB
    const p = partPlan(size);
    expect(p.length).toBeLessThanOrEqual(10000);
    expect(p.reduce((a, b) => a + b, 0)).toBe(size);
    expect(p[0]).toBe(Math.ceil(size / 10000));
  });
  it('refuses sizes S3 cannot hold', () => {
    expect(() => partPlan(5 * 1024 * 1024 * MiB + 1)).toThrow(/5 TiB/);
    expect(() => partPlan(-1)).toThrow();
  });
});

describe('dandi-etag', () => {
  it('is md5 of the part digests with the part count', () => {
    expect(etagFromDigests([])).toBe(EMPTY_ETAG);
    const a = bytes(1000, 5);
    const d = new Md5().update(a).digest();
    expect(etagFromDigests([d])).toBe(`${nodeMd5(Buffer.from(d))}-1`);
  });
  it('computes the etag of a Blob in chunks, spanning two parts', async () => {
    // A 64 MiB + 3 byte file: two parts (the second of 3 bytes).
    const size = PART_SIZE + 3;
    const b = bytes(size, 11);
    let seen = 0;
    const r = await computeEtag(new Blob([b]), { chunk: 16 * MiB, onBytes: (n) => { seen += n; } });
    const d1 = createHash('md5').update(b.subarray(0, PART_SIZE)).digest();
    const d2 = createHash('md5').update(b.subarray(PART_SIZE)).digest();
    expect(r.parts).toEqual([PART_SIZE, 3]);
    expect(r.etag).toBe(`${nodeMd5(Buffer.concat([d1, d2]))}-2`);
    expect(seen).toBe(size);
  }, 60000);
  it('is the empty etag for zero bytes', async () => {
    expect((await computeEtag(new Blob([]))).etag).toBe(EMPTY_ETAG);
  });
});

describe('asset paths', () => {
  it('joins a folder and a name without stray slashes', () => {
    expect(assetPath('', 'a.nwb')).toBe('a.nwb');
    expect(assetPath('/sub-01//ses-1/', 'a.nwb')).toBe('sub-01/ses-1/a.nwb');
  });
  it('refuses "." and ".." segments and empty names', () => {
    expect(() => assetPath('../x', 'a')).toThrow(/\.\./);
    expect(() => assetPath('x', '')).toThrow();
  });
  it('guesses the encoding format like the CLI', () => {
    expect(encodingFormat('sub-01/x.nwb')).toBe('application/x-nwb');
    expect(encodingFormat('README.txt')).toBe('text/plain');
    expect(encodingFormat('x.bin', '')).toBe('application/octet-stream');
    expect(encodingFormat('x.png', 'image/png')).toBe('image/png');
  });
});

describe('completionEtag', () => {
  const ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
  it('reads the ETag of the result, in a namespace or none, quotes removed', () => {
    expect(completionEtag(`<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult ${ns}><Location>x</Location><Bucket>b</Bucket><Key>k</Key><ETag>&quot;0123-2&quot;</ETag></CompleteMultipartUploadResult>`)).toBe('0123-2');
    expect(completionEtag('<CompleteMultipartUploadResult><ETag>"ab-1"</ETag></CompleteMultipartUploadResult>')).toBe('ab-1');
  });
  it("gives '' for radosgw 16's empty ETag and null when there is none", () => {
    expect(completionEtag(`<CompleteMultipartUploadResult ${ns}><ETag></ETag></CompleteMultipartUploadResult>`)).toBe('');
    expect(completionEtag(`<CompleteMultipartUploadResult ${ns}><Key>k</Key></CompleteMultipartUploadResult>`)).toBe(null);
  });
  it('looks only at the children of the root, as the client does', () => {
    expect(completionEtag('<R><Part><ETag>"x"</ETag></Part></R>')).toBe(null);
  });
  it('refuses what is not XML', () => {
    expect(() => completionEtag('{"detail": "x"}')).toThrow(/XML/);
  });
});
