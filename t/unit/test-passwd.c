/* test-passwd.c - scrypt password hashes. */
#include <string.h>
#include <time.h>

#include "passwd.h"
#include "tap.h"

int
main(void)
{
	char h[PASSWD_HASH_MAX], h2[PASSWD_HASH_MAX];

	/* RFC 7914, section 12, third vector, in our stored form. */
	const char *rfc = "scrypt$1024$8$16$TmFDbA==$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA==";
	ok(passwd_verify("password", rfc), "RFC 7914 vector verifies");
	ok(!passwd_verify("passwore", rfc), "one letter off does not");

	ok(passwd_hash("correct horse", h) == 0, "hash made");
	ok(strncmp(h, "scrypt$32768$8$1$", 17) == 0, "stored form names its parameters (%s)", h);
	ok(passwd_verify("correct horse", h), "right password verifies");
	ok(!passwd_verify("correct hors", h), "prefix refused");
	ok(!passwd_verify("correct horse ", h), "suffix refused");
	ok(!passwd_verify("", h), "empty refused");
	ok(passwd_hash("correct horse", h2) == 0 && strcmp(h, h2) != 0, "salted: two hashes differ");
	ok(passwd_verify("unicodé ✓", (passwd_hash("unicodé ✓", h2), h2)), "UTF-8 password");

	ok(!passwd_verify("x", NULL), "no stored hash: refused");
	ok(!passwd_verify("x", ""), "empty stored hash: refused");
	ok(!passwd_verify("x", "pbkdf2_sha256$1$a$b"), "other scheme: refused");
	ok(!passwd_verify("x", "scrypt$3$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=="), "N not a power of 2");
	ok(!passwd_verify("x", "scrypt$1073741824$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=="),
	    "N too large refused (no memory blow-up)");
	ok(!passwd_verify("x", "scrypt$1024$8$1$!!!$AAAA"), "bad base64 refused");

	/* An unknown account costs about what a known one does. */
	clock_t t0 = clock();
	passwd_verify("guess", h);
	clock_t known = clock() - t0;
	t0 = clock();
	passwd_verify("guess", NULL);
	clock_t unknown = clock() - t0;
	ok(unknown * 3 > known, "no stored hash still costs a derivation (%ld vs %ld ticks)",
	    (long)unknown, (long)known);
	return done_testing();
}
