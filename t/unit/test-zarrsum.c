/* test-zarrsum.c - the dandi-zarr-checksum against worked examples. The
 * expected strings were computed independently (python3 hashlib + json,
 * following the documented algorithm) and agree with the vectors of the
 * dandi CLI and zarr_checksum test suites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tap.h"
#include "util.h"
#include "zarrsum.h"

#define A32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B32 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct zarrsum_entry
E(const char *name, const char *digest, int64_t size)
{
	struct zarrsum_entry e;
	int64_t count = 1;

	e.name = (char *)name;
	snprintf(e.digest, sizeof(e.digest), "%s", digest);
	zarrsum_parse(digest, NULL, &count, NULL);
	e.size = size;
	e.count = strlen(digest) == 32 ? 1 : count;
	return e;
}

static void
dir_is(struct zarrsum_entry *f, size_t nf, struct zarrsum_entry *d, size_t nd, const char *want,
    const char *name)
{
	char out[ZARRSUM_LEN] = "";

	ok(zarrsum_dir(f, nf, d, nd, out) == 0, "%s computes", name);
	is_str(out, want, name);
}

static void
md5_hex(const char *s, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;

	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	hex_encode(md, 16, out);
}

/* A tree from (path, content) pairs in the given order. */
static void
tree_is(const char *const *paths, const char *const *contents, size_t n, const char *want,
    const char *name)
{
	struct zarrsum *z = zarrsum_new();
	char out[ZARRSUM_LEN] = "", md5[33];
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		md5_hex(contents[i], md5);
		rc |= zarrsum_add(z, paths[i], (int64_t)strlen(contents[i]), md5);
	}
	ok(rc == 0, "%s: keys added", name);
	ok(zarrsum_finish(z, out) == 0, "%s: finished", name);
	is_str(out, want, name);
	zarrsum_free(z);
}

int
main(void)
{
	struct zarrsum_entry f[4], d[4];
	char out[ZARRSUM_LEN];

	/* Directory digests (dandi-cli test_checksum_zarr_dir cases). */
	dir_is(NULL, 0, NULL, 0, ZARRSUM_EMPTY, "empty directory");
	is_str(ZARRSUM_EMPTY, "481a2f77ab786a0f45aafd5db0971caa-0--0", "empty constant");
	f[0] = E("bar", A32, 1);
	dir_is(f, 1, NULL, 0, "f21b9b4bf53d7ce1167bcfae76371e59-1--1", "one file");
	d[0] = E("bar", A32 "-1--1", 1);
	dir_is(NULL, 0, d, 1, "ea8b8290b69b96422a3ed1cca0390f21-1--1", "one directory");
	f[0] = E("bar", A32, 1);
	f[1] = E("baz", B32, 2);
	dir_is(f, 2, NULL, 0, "4e67de4393d14c1e9c472438f0f1f8b1-2--3", "two files");
	d[0] = E("baz", B32 "-1--1", 1);
	d[1] = E("bar", A32 "-1--2", 2);
	dir_is(NULL, 0, d, 2, "8f8361a286c9a7c3fbfd464e33989037-2--3", "two directories, unsorted input");
	f[0] = E("baz", A32, 1);
	d[0] = E("bar", B32 "-1--2", 2);
	dir_is(f, 1, d, 1, "3cb139f47d3a3580388f41956c15f55e-2--3", "file and directory");

	/* Serialisation: ASCII-only escapes as Python's json.dumps. */
	f[0] = E("\xc3\xa9", A32, 1);
	char *js = zarrsum_dir_json(f, 1, NULL, 0);
	is_str(js, "{\"directories\":[],\"files\":[{\"digest\":\"" A32 "\",\"name\":\"\\u00e9\",\"size\":1}]}",
	    "non-ASCII name escaped");
	free(js);
	dir_is(f, 1, NULL, 0, "e370b4e8f0c6463419f65e5fa8cb0f42-1--1", "name e-acute");
	/* x, U+1F600 (surrogate pair), quote, backslash, newline, DEL, slash */
	f[0] = E("x\xf0\x9f\x98\x80\"\\\n\x7f/", A32, 1);
	js = zarrsum_dir_json(f, 1, NULL, 0);
	is_str(js, "{\"directories\":[],\"files\":[{\"digest\":\"" A32
	    "\",\"name\":\"x\\ud83d\\ude00\\\"\\\\\\n\\u007f/\",\"size\":1}]}", "escapes");
	free(js);
	dir_is(f, 1, NULL, 0, "bbf5eeaeb3c52361bef6a573f1703846-1--1", "escaped name digest");
	f[0] = E("same", A32, 1);
	f[1] = E("same", B32, 1);
	ok(zarrsum_dir(f, 2, NULL, 0, out) != 0, "duplicate file names refused");

	/* Parsing as the original's anchored regex. */
	int64_t c = 0, s = 0;
	char m[33];
	ok(zarrsum_parse("25627e0fc7c609d10100d020f7782a25-8--197", m, &c, &s) && c == 8 && s == 197 &&
	    strcmp(m, "25627e0fc7c609d10100d020f7782a25") == 0, "parse");
	ok(zarrsum_parse("25627e0fc7c609d10100d020f7782a25-8--197trailing", NULL, &c, &s), "parse anchored at start only");
	ok(!zarrsum_parse("25627e0fc7c609d10100d020f7782a25-8-197", NULL, &c, &s), "single dash refused");
	ok(!zarrsum_parse("25627E0fc7c609d10100d020f7782a25-8--197", NULL, &c, &s), "upper case refused");
	ok(!zarrsum_parse(A32, NULL, &c, &s), "bare md5 is not a zarr checksum");

	/* Trees. */
	{
		const char *p[] = { ".zattrs", "0/0" }, *v[] = { "{}", "abc" };
		tree_is(p, v, 2, "8982f25cad319d4d4ec7614696e17bce-2--5", "worked example .zattrs + 0/0");
	}
	{
		const char *p[] = { "file1.txt", "file2.txt", "sub1/file3.txt", "sub1/file4.txt",
		    "sub1/file5.txt", "sub1/subsub/file6.txt", "sub2/file7.txt", "sub2/file8.txt" };
		const char *v[] = { "This is the first file.\n", "This is the second file.\n",
		    "This is the third file.\n", "This is the fourth file.\n", "This is the fifth file.\n",
		    "This is the sixth file.\n", "This is the seventh file.\n", "This is the eighth file.\n" };
		tree_is(p, v, 8, "25627e0fc7c609d10100d020f7782a25-8--197", "dandi-cli text tree");
		const char *p1[] = { "file3.txt", "file4.txt", "file5.txt", "subsub/file6.txt" };
		tree_is(p1, v + 2, 4, "64af93ad7f8d471c00044d1ddbd4c0ba-4--97", "dandi-cli sub1");
	}
	{
		/* S3 order puts "d/a.b" before "d/a/1" ('.' < '/'); a file and a
		 * directory may share a name. */
		const char *p[] = { "d/a", "d/a.b", "d/a.c/x", "d/a/1", "e" };
		const char *v[] = { "4444", "22", "333", "1", "" };
		tree_is(p, v, 5, "18961119e0605cb7f1b61a7df5f0fd55-5--10", "S3 key order, name clash");
		const char *q[] = { "./d//a", "d/a.b/", "d/a.c/./x", "d/a/1", "e" };
		tree_is(q, v, 5, "18961119e0605cb7f1b61a7df5f0fd55-5--10", "PurePosixPath normalisation");
	}

	/* Out of order keys (a closed directory reopened) are an error. */
	{
		struct zarrsum *z = zarrsum_new();
		ok(zarrsum_add(z, "a/1", 1, A32) == 0 && zarrsum_add(z, "b/1", 1, A32) == 0, "a/1, b/1");
		ok(zarrsum_add(z, "a/2", 1, A32) != 0, "a/2 after b/1 refused");
		ok(strstr(zarrsum_error(z), "out of order") != NULL, "error says out of order");
		ok(zarrsum_add(z, "//", 1, A32) != 0, "empty path refused");
		zarrsum_free(z);
	}

	/* Save and load in the middle gives the same result. */
	{
		const char *p[] = { "a/b/c", "a/b/d%\n e", "a/x", "b", "c/d/e/f" };
		char want[ZARRSUM_LEN], got[ZARRSUM_LEN];
		struct zarrsum *z = zarrsum_new();
		for (int i = 0; i < 5; i++)
			zarrsum_add(z, p[i], i + 1, A32);
		zarrsum_finish(z, want);
		zarrsum_free(z);
		for (int cut = 0; cut <= 5; cut++) {
			z = zarrsum_new();
			for (int i = 0; i < cut; i++)
				zarrsum_add(z, p[i], i + 1, A32);
			char *st = zarrsum_save(z);
			zarrsum_free(z);
			z = zarrsum_load(st);
			free(st);
			ok(z != NULL, "state loads after %d keys", cut);
			if (z == NULL)
				continue;
			is_int(zarrsum_leaves(z), cut, "leaf count kept");
			for (int i = cut; i < 5; i++)
				zarrsum_add(z, p[i], i + 1, A32);
			zarrsum_finish(z, got);
			is_str(got, want, "resumed digest equals uninterrupted");
			zarrsum_free(z);
		}
		ok(zarrsum_load("nonsense") == NULL, "malformed state refused");
	}

	/* A wide and deep tree: 100 x 100 keys, memory holds one directory. */
	{
		struct zarrsum *z = zarrsum_new();
		char key[64];
		int rc = 0;
		for (int i = 0; i < 100; i++)
			for (int j = 0; j < 100; j++) {
				snprintf(key, sizeof(key), "0/%02d/%02d", i, j);
				rc |= zarrsum_add(z, key, 1, A32);
			}
		ok(rc == 0 && zarrsum_finish(z, out) == 0, "10,000 keys");
		is_str(out, "4d3833471f77b1a5cf68500016004a33-10000--10000", "10,000 key tree");
		zarrsum_free(z);
	}

	/* Path rules. */
	ok(zarrsum_path_error("a/b/c.zarray", false) == NULL, "plain path ok");
	is_str(zarrsum_path_error("a/../b", false), "Zarr path cannot contain \"..\" components.", "..");
	is_str(zarrsum_path_error("a\\..\\b", true), "Zarr path cannot contain \"..\" components.", "backslash ..");
	is_str(zarrsum_path_error("..", true), "Zarr path cannot contain \"..\" components.", "bare ..");
	ok(zarrsum_path_error("a/..b/c..", false) == NULL, "dots inside names ok");
	is_str(zarrsum_path_error("/a", false), "Zarr path cannot start with a slash.", "leading slash");
	ok(zarrsum_path_error("/a", true) == NULL, "leading slash ok in a prefix");
	ok(zarrsum_path_error("a//b", false) != NULL, "empty segment");
	ok(zarrsum_path_error("a/./b", false) != NULL, ". segment");
	ok(zarrsum_path_error("a/", false) != NULL, "trailing slash");
	ok(zarrsum_path_error("", false) != NULL, "empty");
	char longp[1000];
	memset(longp, 'x', 982);
	longp[982] = '\0';
	ok(zarrsum_path_error(longp, false) == NULL, "982 bytes ok");
	longp[982] = 'x';
	longp[983] = '\0';
	ok(zarrsum_path_error(longp, false) != NULL, "983 bytes refused");
	return done_testing();
}
