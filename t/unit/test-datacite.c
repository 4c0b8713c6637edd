/* Unit tests of datacite.c: the DOI string, when DataCite is on, and the
 * JSON:API document built from a realistic published metadata document
 * (persons "Family, Given" with ORCID and affiliations, an organization,
 * a funder, related resources, license, keywords). */
#include <stdlib.h>
#include <string.h>

#include "datacite.h"
#include "tap.h"

/* The value at a dotted path ("data.attributes.creators.0.familyName"),
 * as a string, or NULL when there is none. */
static struct json_object *
node(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL && o != NULL; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array)) {
			char *end;
			long i = strtol(k, &end, 10);
			o = *end || i < 0 || (size_t)i >= json_object_array_length(o) ? NULL :
			    json_object_array_get_idx(o, (size_t)i);
		} else if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &o))
			o = NULL;
	}
	return o;
}

static const char *
at(struct json_object *o, const char *path)
{
	struct json_object *n = node(o, path);

	return n != NULL ? json_object_get_string(n) : NULL;
}

static long
len_at(struct json_object *o, const char *path)
{
	struct json_object *n = node(o, path);

	return n != NULL && json_object_is_type(n, json_type_array) ? (long)json_object_array_length(n) : -1;
}

static const char *metadata_text =
"{"
"  \"id\": \"DANDI:000027/0.210831.2033\","
"  \"identifier\": \"DANDI:000027\","
"  \"version\": \"0.210831.2033\","
"  \"name\": \"Hippocampal recordings in freely moving mice\","
"  \"description\": \"Silicon probe recordings of CA1 during a T-maze task.\","
"  \"url\": \"https://dandiarchive.org/dandiset/000027/0.210831.2033\","
"  \"doi\": \"10.48324/dandi.000027/0.210831.2033\","
"  \"datePublished\": \"2021-08-31T20:33:04.123456+00:00\","
"  \"license\": [\"spdx:CC-BY-4.0\"],"
"  \"keywords\": [\"hippocampus\", \"place cells\"],"
"  \"schemaKey\": \"Dandiset\", \"schemaVersion\": \"0.6.4\","
"  \"contributor\": ["
"    { \"schemaKey\": \"Person\", \"name\": \"Doe, Jane\", \"identifier\": \"0000-0002-1825-0097\","
"      \"email\": \"jane@example.org\", \"includeInCitation\": true,"
"      \"roleName\": [\"dcite:Author\", \"dcite:ContactPerson\"],"
"      \"affiliation\": [ { \"schemaKey\": \"Affiliation\", \"name\": \"MIT\" },"
"                         { \"schemaKey\": \"Affiliation\", \"name\": \"Harvard Medical School\" } ] },"
"    { \"schemaKey\": \"Person\", \"name\": \"M\xc3\xbcller-Sch\xc3\xb6n, J\xc3\xbcrgen K.\","
"      \"includeInCitation\": true, \"roleName\": [\"dcite:Author\"] },"
"    { \"schemaKey\": \"Organization\", \"name\": \"Allen Institute\", \"includeInCitation\": false,"
"      \"roleName\": [\"dcite:Software\", \"dcite:Producer\"] },"
"    { \"schemaKey\": \"Organization\", \"name\": \"National Institutes of Health\","
"      \"identifier\": \"https://ror.org/01cwqze88\", \"awardNumber\": \"R01MH000000\","
"      \"includeInCitation\": false, \"roleName\": [\"dcite:Funder\"] },"
"    { \"schemaKey\": \"Person\", \"name\": \"Roe, Richard\", \"includeInCitation\": false,"
"      \"roleName\": [\"dcite:Sponsor\", \"dcite:Software\"] }"
"  ],"
"  \"relatedResource\": ["
"    { \"schemaKey\": \"Resource\", \"identifier\": \"doi:10.1101/2021.ABC.123\","
"      \"relation\": \"dcite:IsDescribedBy\" },"
"    { \"schemaKey\": \"Resource\", \"url\": \"https://github.com/Example/Analysis\","
"      \"relation\": \"dcite:IsSupplementedBy\" },"
"    { \"schemaKey\": \"Resource\","
"      \"identifier\": \"https://www.biorxiv.org/content/10.1101/2021.03.04.433941v2\","
"      \"relation\": \"dcite:IsDescribedBy\" },"
"    { \"schemaKey\": \"Resource\", \"identifier\": \"https://doi.org/10.5281/Zenodo.1234\","
"      \"relation\": \"dcite:IsDerivedFrom\" },"
"    { \"schemaKey\": \"Resource\", \"identifier\": \"PMID:12345\", \"relation\": \"dcite:Cites\" }"
"  ]"
"}";

int
main(void)
{
	struct config		c;
	char			err[512], doi[256];
	struct json_object	*md, *doc;

	unsetenv("DANDI_DOI_PREFIX");
	unsetenv("DANDI_DATACITE_API_URL");
	unsetenv("DANDI_DATACITE_USERNAME");
	unsetenv("DANDI_DATACITE_PASSWORD");
	unsetenv("DANDI_DATACITE_PUBLISH");
	unsetenv("DANDI_INSTANCE_IDENTIFIER");
	setenv("DANDI_INSTANCE_NAME", "DANDI", 1);
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == 0, "config loads");

	/* --- the DOI string and the switches --- */
	datacite_doi(&c, 27, "0.210831.2033", doi, sizeof(doi));
	is_str(doi, "10.80507/dandi.000027/0.210831.2033", "no doi_prefix: the test prefix 10.80507");
	ok(!datacite_configured(&c), "DataCite off by default");
	ok(!datacite_publish(&c), "Draft DOIs by default");
	config_free(&c);

	setenv("DANDI_DOI_PREFIX", "10.48324", 1);
	setenv("DANDI_INSTANCE_NAME", "EMBER", 1);
	setenv("DANDI_DATACITE_API_URL", "https://api.test.datacite.org/dois", 1);
	setenv("DANDI_DATACITE_USERNAME", "ember.archive", 1);
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == 0, "config loads with DataCite keys");
	datacite_doi(&c, 123456, "0.250307.1405", doi, sizeof(doi));
	is_str(doi, "10.48324/ember.123456/0.250307.1405", "prefix, instance name in lower case, id, version");
	ok(!datacite_configured(&c), "off without a password");
	config_free(&c);

	setenv("DANDI_DATACITE_PASSWORD", "secret", 1);
	setenv("DANDI_DATACITE_PUBLISH", "true", 1);
	setenv("DANDI_INSTANCE_NAME", "DANDI", 1);
	setenv("DANDI_INSTANCE_IDENTIFIER", "RRID:SCR_017571", 1);
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == 0, "config loads");
	ok(datacite_configured(&c), "on with URL, username, password and prefix");
	ok(datacite_publish(&c), "datacite_publish = true: Findable");

	/* --- the document --- */
	md = json_tokener_parse(metadata_text);
	ok(md != NULL, "metadata parses");
	doc = datacite_document(&c, md, true, err, sizeof(err));
	ok(doc != NULL, "document built");
	if (doc == NULL) {
		printf("# %s\n", err);
		return done_testing();
	}
	is_str(at(doc, "data.id"), "10.48324/dandi.000027/0.210831.2033", "data.id is the DOI");
	is_str(at(doc, "data.type"), "dois", "data.type dois");
	struct json_object *a = node(doc, "data.attributes");
	is_str(at(a, "event"), "publish", "event publish when publishing");
	is_str(at(a, "doi"), "10.48324/dandi.000027/0.210831.2033", "doi");
	is_str(at(a, "version"), "0.210831.2033", "version");
	is_str(at(a, "titles.0.title"), "Hippocampal recordings in freely moving mice", "title");
	is_str(at(a, "descriptions.0.description"), "Silicon probe recordings of CA1 during a T-maze task.",
	    "description");
	is_str(at(a, "descriptions.0.descriptionType"), "Abstract", "description type Abstract");
	is_str(at(a, "alternateIdentifiers.0.alternateIdentifier"),
	    "https://identifiers.org/DANDI:000027/0.210831.2033", "identifiers.org alternate identifier");
	is_str(at(a, "alternateIdentifiers.1.alternateIdentifier"),
	    "https://dandiarchive.org/dandiset/000027/0.210831.2033", "url alternate identifier");
	is_str(at(a, "alternateIdentifiers.1.alternateIdentifierType"), "URL", "of type URL");
	is_str(at(a, "publisher.name"), "DANDI Archive", "publisher");
	is_str(at(a, "publisher.lang"), "en", "publisher language");
	is_str(at(a, "publisher.publisherIdentifier"), "https://scicrunch.org/resolver/RRID:SCR_017571",
	    "publisher RRID");
	is_str(at(a, "publisher.publisherIdentifierScheme"), "RRID", "publisher identifier scheme");
	is_str(at(a, "publicationYear"), "2021", "publicationYear from datePublished");
	is_str(at(a, "types.resourceTypeGeneral"), "Dataset", "resourceTypeGeneral Dataset");
	is_str(at(a, "types.resourceType"), "Neural Data", "resourceType");
	is_str(at(a, "url"), "https://dandiarchive.org/dandiset/000027/0.210831.2033", "url");
	is_str(at(a, "schemaVersion"), "http://datacite.org/schema/kernel-4", "kernel-4");
	is_int(len_at(a, "rightsList"), 1, "one license");
	is_str(at(a, "rightsList.0.rightsIdentifier"), "CC-BY-4.0", "SPDX identifier");
	is_str(at(a, "rightsList.0.rightsIdentifierScheme"), "SPDX", "SPDX scheme");
	is_str(at(a, "rightsList.0.schemeUri"), "https://spdx.org/licenses/", "SPDX scheme URI");

	/* creators: the two Authors */
	is_int(len_at(a, "creators"), 2, "two creators (the Authors)");
	is_str(at(a, "creators.0.creatorName"), "Doe, Jane", "creator name");
	is_str(at(a, "creators.0.name"), "Doe, Jane", "creator name (name)");
	is_str(at(a, "creators.0.familyName"), "Doe", "family name");
	is_str(at(a, "creators.0.givenName"), "Jane", "given name");
	is_str(at(a, "creators.0.nameType"), "Personal", "Personal");
	ok(node(a, "creators.0.contributorName") == NULL && node(a, "creators.0.contributorType") == NULL,
	    "no contributor keys on a creator");
	is_str(at(a, "creators.0.nameIdentifiers.0.nameIdentifier"), "https://orcid.org/0000-0002-1825-0097",
	    "ORCID as a name identifier");
	is_str(at(a, "creators.0.nameIdentifiers.0.nameIdentifierScheme"), "ORCID", "ORCID scheme");
	is_int(len_at(a, "creators.0.affiliation"), 2, "two affiliations");
	is_str(at(a, "creators.0.affiliation.1.name"), "Harvard Medical School", "affiliation name");
	is_str(at(a, "creators.1.familyName"), "M\xc3\xbcller-Sch\xc3\xb6n", "non-ASCII family name");
	is_str(at(a, "creators.1.givenName"), "J\xc3\xbcrgen K.", "given name with an initial");
	ok(node(a, "creators.1.nameIdentifiers") == NULL, "no ORCID, no name identifiers");
	is_int(len_at(a, "creators.1.affiliation"), 0, "a person without affiliations has an empty list");

	/* contributors: everyone with a role left after Author/Funder/Sponsor */
	is_int(len_at(a, "contributors"), 3, "three contributors");
	is_str(at(a, "contributors.0.contributorName"), "Doe, Jane", "author and contact person");
	is_str(at(a, "contributors.0.contributorType"), "ContactPerson", "as ContactPerson");
	is_str(at(a, "contributors.1.contributorName"), "Allen Institute", "organization");
	is_str(at(a, "contributors.1.nameType"), "Organizational", "Organizational");
	is_str(at(a, "contributors.1.contributorType"), "Producer", "first role DataCite knows");
	ok(node(a, "contributors.1.affiliation") == NULL, "no affiliation list for organizations");
	is_str(at(a, "contributors.2.contributorName"), "Roe, Richard", "sponsor with another role");
	is_str(at(a, "contributors.2.contributorType"), "Other", "a role DataCite lacks: Other");

	/* fundingReferences */
	is_int(len_at(a, "fundingReferences"), 2, "funder and sponsor");
	is_str(at(a, "fundingReferences.0.funderName"), "National Institutes of Health", "funder name");
	is_str(at(a, "fundingReferences.0.funderIdentifier"), "https://ror.org/01cwqze88", "funder identifier");
	is_str(at(a, "fundingReferences.0.funderIdentifierType"), "ROR", "ROR");
	is_str(at(a, "fundingReferences.0.awardNumber"), "R01MH000000", "award number");
	ok(node(a, "fundingReferences.1.funderIdentifier") == NULL, "no identifier, none sent");

	/* relatedIdentifiers */
	is_int(len_at(a, "relatedIdentifiers"), 4, "four related identifiers (PMID left out)");
	is_str(at(a, "relatedIdentifiers.0.relatedIdentifier"), "10.1101/2021.abc.123", "doi: in lower case");
	is_str(at(a, "relatedIdentifiers.0.relatedIdentifierType"), "DOI", "DOI");
	is_str(at(a, "relatedIdentifiers.0.relationType"), "IsDescribedBy", "relation by enum name");
	is_str(at(a, "relatedIdentifiers.1.relatedIdentifier"), "https://github.com/example/analysis", "url");
	is_str(at(a, "relatedIdentifiers.1.relatedIdentifierType"), "URL", "URL");
	is_str(at(a, "relatedIdentifiers.2.relatedIdentifier"), "10.1101/2021.03.04.433941", "bioRxiv DOI");
	is_str(at(a, "relatedIdentifiers.3.relatedIdentifier"), "10.5281/zenodo.1234", "doi.org URL as DOI");
	is_str(at(a, "relatedIdentifiers.3.relationType"), "IsDerivedFrom", "its relation");

	is_int(len_at(a, "subjects"), 2, "keywords as subjects");
	is_str(at(a, "subjects.1.subject"), "place cells", "subject");
	json_object_put(doc);

	/* Draft DOI: no event. */
	doc = datacite_document(&c, md, false, err, sizeof(err));
	ok(doc != NULL && node(doc, "data.attributes.event") == NULL, "no event when not publishing");
	json_object_put(doc);

	/* Without an Author the first contributor is the creator. */
	struct json_object *contrib = node(md, "contributor");
	json_object_array_del_idx(contrib, 0, 2);
	doc = datacite_document(&c, md, false, err, sizeof(err));
	is_int(len_at(doc, "data.attributes.creators"), 1, "no Author: one creator");
	is_str(at(doc, "data.attributes.creators.0.creatorName"), "Allen Institute", "the first contributor");
	ok(node(doc, "data.attributes.creators.0.contributorType") == NULL, "without a contributorType");
	json_object_put(doc);

	/* No publisher identifier without instance_identifier. */
	config_free(&c);
	unsetenv("DANDI_INSTANCE_IDENTIFIER");
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == 0, "config loads");
	doc = datacite_document(&c, md, false, err, sizeof(err));
	ok(doc != NULL && node(doc, "data.attributes.publisher.publisherIdentifier") == NULL,
	    "no RRID configured: no publisherIdentifier");
	json_object_put(doc);

	/* What cannot be described. */
	json_object_object_add(md, "license", json_tokener_parse("[\"cc:by\"]"));
	ok(datacite_document(&c, md, false, err, sizeof(err)) == NULL, "non-SPDX license refused");
	ok(strstr(err, "SPDX") != NULL, "error says why");
	json_object_object_del(md, "doi");
	ok(datacite_document(&c, md, false, err, sizeof(err)) == NULL, "no doi refused");
	json_object_put(md);

	/* Nobody listening: a network error, worth retrying. Port 9 on
	 * loopback (discard) is closed on any test machine. */
	enum datacite_fate fate;
	config_free(&c);
	setenv("DANDI_DATACITE_API_URL", "http://127.0.0.1:9/dois", 1);
	ok(config_load(&c, NULL, 0, err, sizeof(err)) == 0, "config loads");
	is_int(datacite_register(&c, "10.48324/dandi.000027/0.210831.2033", "{}", err, sizeof(err)),
	    DATACITE_RETRY, "register: connection refused is retried");
	ok(strstr(err, "127.0.0.1:9") != NULL, "the error names the URL");
	is_int(datacite_delete_draft(&c, "10.48324/dandi.000027/0.210831.2033", &fate, err, sizeof(err)),
	    DATACITE_RETRY, "delete: connection refused is retried");
	config_free(&c);
	return done_testing();
}
