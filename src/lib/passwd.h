/* passwd.h - password hashes for local accounts: scrypt (memory-hard, from
 * OpenSSL) with a random salt, stored as
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>
 * so the cost can be raised later without breaking stored hashes. */
#ifndef DANDI_PASSWD_H
#define DANDI_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWD_HASH_MAX	160

/* 0 ok, -1 when OpenSSL fails (no randomness, out of memory). */
int	passwd_hash(const char *password, char out[PASSWD_HASH_MAX]);
/* True when password matches stored; the key comparison is constant-time.
 * A NULL or malformed stored hash still costs one derivation, so an
 * unknown account answers as slowly as a known one. */
bool	passwd_verify(const char *password, const char *stored);

#endif
