/* passwd.c - scrypt password hashes (see passwd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "passwd.h"

/* 2^15 x 8 x 128 bytes = 32 MiB and about 0.1 s per derivation: dear for a
 * guesser, cheap for one sign-in. */
#define SCRYPT_N	32768
#define SCRYPT_R	8
#define SCRYPT_P	1
#define SCRYPT_MAXMEM	(64u * 1024 * 1024)
#define SALT_LEN	16
#define KEY_LEN		32

static int
derive(const char *pw, const unsigned char *salt, size_t saltlen, unsigned long n,
    unsigned long r, unsigned long p, unsigned char *key, size_t keylen)
{
	return EVP_PBE_scrypt(pw, strlen(pw), salt, saltlen, n, r, p, SCRYPT_MAXMEM,
	    key, keylen) == 1 ? 0 : -1;
}

int
passwd_hash(const char *pw, char out[PASSWD_HASH_MAX])
{
	unsigned char	salt[SALT_LEN], key[KEY_LEN];
	char		salt64[32], key64[64];

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    derive(pw, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, key, sizeof(key)) != 0)
		return -1;
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)key64, key, sizeof(key));
	snprintf(out, PASSWD_HASH_MAX, "scrypt$%d$%d$%d$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P,
	    salt64, key64);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

/* Decodes base64 s into out (at most cap bytes); the length, or -1. */
static int
b64_decode(const char *s, unsigned char *out, size_t cap)
{
	size_t len = strlen(s), pad = 0;
	unsigned char tmp[128];

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(tmp))
		return -1;
	if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len) < 0)
		return -1;
	while (pad < 2 && s[len - 1 - pad] == '=')
		pad++;
	size_t n = len / 4 * 3 - pad;
	if (n > cap)
		return -1;
	memcpy(out, tmp, n);
	return (int)n;
}

bool
passwd_verify(const char *pw, const char *stored)
{
	unsigned char	salt[64], want[64], got[64];
	unsigned long	n = SCRYPT_N, r = SCRYPT_R, p = SCRYPT_P;
	char		buf[PASSWD_HASH_MAX], *f[6] = { NULL }, *s;	/* for analysers: i == 6 means all are set */
	int		saltlen = -1, keylen = -1, i = 0;
	bool		usable = false;

	if (stored != NULL && strlen(stored) < sizeof(buf)) {
		strcpy(buf, stored);
		for (s = buf; i < 6 && s != NULL; i++) {
			f[i] = s;
			if ((s = strchr(s, '$')) != NULL)
				*s++ = '\0';
		}
		if (i == 6 && s == NULL && strcmp(f[0], "scrypt") == 0) {
			n = strtoul(f[1], NULL, 10);
			r = strtoul(f[2], NULL, 10);
			p = strtoul(f[3], NULL, 10);
			saltlen = b64_decode(f[4], salt, sizeof(salt));
			keylen = b64_decode(f[5], want, sizeof(want));
			/* Parameters within what a hash of ours can carry. */
			usable = saltlen >= 4 && keylen >= 16 && n >= 2 && (n & (n - 1)) == 0 &&
			    n <= 1048576 && r >= 1 && r <= 32 && p >= 1 && p <= 16;
		}
	}
	if (!usable) {
		/* Same work as a real check, then no. */
		memset(salt, 0, SALT_LEN);
		(void)derive(pw, salt, SALT_LEN, SCRYPT_N, SCRYPT_R, SCRYPT_P, got, KEY_LEN);
		return false;
	}
	if (derive(pw, salt, (size_t)saltlen, n, r, p, got, (size_t)keylen) != 0)
		return false;
	bool ok = CRYPTO_memcmp(got, want, (size_t)keylen) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}
