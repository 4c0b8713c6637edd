/*
 * datacite.c - see datacite.h. The document follows the mapping of
 * dandischema's to_datacite (DataCite kernel-4 attributes from the
 * PublishedDandiset fields); the HTTP side is DataCite's REST API with
 * basic auth. Which outcome is worth retrying is decided here, so the job
 * that calls it only passes the result on.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pcre2.h>

#include "datacite.h"
#include "httpc.h"
#include "jsonread.h"
#include "util.h"

/* A registration may wait on DataCite's database; the original allows 30 s. */
#define DATACITE_TIMEOUT	30L

/* DataCite contributorType values (a role named so is passed on as is). */
static const char *const contributor_types[] = {
	"ContactPerson", "DataCollector", "DataCurator", "DataManager", "Distributor",
	"Editor", "HostingInstitution", "Producer", "ProjectLeader", "ProjectManager",
	"ProjectMember", "RegistrationAgency", "RegistrationAuthority", "RelatedPerson",
	"Researcher", "ResearchGroup", "RightsHolder", "Sponsor", "Supervisor",
	"WorkPackageLeader", "Other",
};

/* dandischema's NAME_PATTERN, "Family, Given" (Python's \w is Unicode). */
#define PERSON_NAME_PATTERN "^([\\w\\s\\-\\.']+),\\s+([\\w\\s\\-\\.']+)$"

void
datacite_doi(const struct config *cfg, int64_t dandiset_id, const char *version,
    char *out, size_t outlen)
{
	char	lower[128];
	size_t	k;

	for (k = 0; cfg->instance_name[k] && k + 1 < sizeof(lower); k++) {
		char c = cfg->instance_name[k];
		lower[k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	lower[k] = '\0';
	snprintf(out, outlen, "%s/%s.%06lld/%s", *cfg->doi_prefix ? cfg->doi_prefix : "10.80507",
	    lower, (long long)dandiset_id, version);
}

bool
datacite_configured(const struct config *cfg)
{
	return *cfg->datacite_api_url && *cfg->datacite_username && *cfg->datacite_password &&
	    *cfg->doi_prefix;
}

bool
datacite_publish(const struct config *cfg)
{
	return cfg->datacite_publish;
}

/* ---- the document --------------------------------------------------- */

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *
get_array(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static void
put_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static struct json_object *
pair(const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct json_object *o = json_object_new_object();

	put_str(o, k1, v1);
	put_str(o, k2, v2);
	return o;
}

/* The role list of a contributor by enum name ("dcite:Author" -> "Author"),
 * which is what the mapping compares and passes on. */
struct roles {
	const char	**name;
	size_t		  n;
};

static void
roles_load(struct roles *r, struct json_object *contributor)
{
	struct json_object *a = get_array(contributor, "roleName");
	size_t len = a != NULL ? json_object_array_length(a) : 0;

	r->name = xcalloc(len + 1, sizeof(*r->name));
	r->n = 0;
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		const char *s;
		if (!json_object_is_type(e, json_type_string))
			continue;
		s = json_object_get_string(e);
		r->name[r->n++] = strncmp(s, "dcite:", 6) == 0 ? s + 6 : s;
	}
}

static bool
roles_has(const struct roles *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return true;
	return false;
}

/* Removes the first occurrence, as Python's list.remove. */
static void
roles_remove(struct roles *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0) {
			memmove(&r->name[i], &r->name[i + 1], (r->n - i - 1) * sizeof(*r->name));
			r->n--;
			return;
		}
}

static const char *
contributor_type(const struct roles *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; k < sizeof(contributor_types) / sizeof(contributor_types[0]); k++)
			if (strcmp(r->name[i], contributor_types[k]) == 0)
				return contributor_types[k];
	return "Other";
}

/* "Family, Given" split of a person's name; false when it is not of that
 * form (the schema requires it, so only unvalidated metadata gets here). */
static bool
split_person_name(const char *name, char **family, char **given)
{
	static pcre2_code *re;
	pcre2_match_data *md;
	PCRE2_SIZE *ov;
	bool ok = false;

	if (re == NULL) {
		int ec;
		PCRE2_SIZE eo;
		re = pcre2_compile((PCRE2_SPTR)PERSON_NAME_PATTERN, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
		if (re == NULL)
			fatal("datacite: the person name pattern does not compile");
	}
	md = pcre2_match_data_create_from_pattern(re, NULL);
	if (pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL) == 3) {
		ov = pcre2_get_ovector_pointer(md);
		*family = strndup(name + ov[2], ov[3] - ov[2]);
		*given = strndup(name + ov[4], ov[5] - ov[4]);
		ok = *family != NULL && *given != NULL;
	}
	pcre2_match_data_free(md);
	return ok;
}

/* The fundingReferences entry of a Funder or Sponsor. */
static struct json_object *
funding_reference(struct json_object *c)
{
	struct json_object *f = json_object_new_object();
	const char *name = get_str(c, "name"), *id = get_str(c, "identifier"),
	    *award = get_str(c, "awardNumber");

	json_object_object_add(f, "funderName", name ? json_object_new_string(name) : NULL);
	if (id != NULL && *id) {
		put_str(f, "funderIdentifier", id);
		put_str(f, "funderIdentifierType", strstr(id, "ror.org") != NULL ? "ROR" : "Other");
	}
	if (award != NULL && *award)
		put_str(f, "awardNumber", award);
	return f;
}

/* A contributor as DataCite describes a person or organization, named
 * under name_key (contributorName or creatorName). */
static struct json_object *
party(struct json_object *c, const char *name_key)
{
	struct json_object *p = json_object_new_object(), *aff;
	const char *name = get_str(c, "name"), *kind = get_str(c, "schemaKey");
	const char *id = get_str(c, "identifier");

	json_object_object_add(p, "name", name ? json_object_new_string(name) : NULL);
	json_object_object_add(p, name_key, name ? json_object_new_string(name) : NULL);
	put_str(p, "schemeUri", "orcid.org");
	if (kind != NULL && strcmp(kind, "Person") == 0) {
		char *family = NULL, *given = NULL;
		struct json_object *names = json_object_new_array();

		put_str(p, "nameType", "Personal");
		if (name != NULL && split_person_name(name, &family, &given)) {
			put_str(p, "familyName", family);
			put_str(p, "givenName", given);
		}
		free(family);
		free(given);
		if ((aff = get_array(c, "affiliation")) != NULL)
			for (size_t i = 0; i < json_object_array_length(aff); i++) {
				const char *an = get_str(json_object_array_get_idx(aff, i), "name");
				struct json_object *o = json_object_new_object();
				json_object_object_add(o, "name", an ? json_object_new_string(an) : NULL);
				json_object_array_add(names, o);
			}
		json_object_object_add(p, "affiliation", names);
		if (id != NULL && *id) {
			struct json_object *ids = json_object_new_array(), *orcid = json_object_new_object();
			char url[512];

			snprintf(url, sizeof(url), "https://orcid.org/%s", id);
			put_str(orcid, "nameIdentifier", url);
			put_str(orcid, "nameIdentifierScheme", "ORCID");
			put_str(orcid, "schemeUri", "https://orcid.org/");
			json_object_array_add(ids, orcid);
			json_object_object_add(p, "nameIdentifiers", ids);
		}
	} else if (kind != NULL && strcmp(kind, "Organization") == 0) {
		put_str(p, "nameType", "Organizational");
	}
	return p;
}

/* A contributor entry turned creator: creatorName instead of
 * contributorName, no contributorType. */
static struct json_object *
as_creator(struct json_object *contributor)
{
	struct json_object *c = NULL, *name;

	json_object_deep_copy(contributor, &c, NULL);
	name = json_object_object_get_ex(c, "contributorName", &name) ? json_object_get(name) : NULL;
	json_object_object_del(c, "contributorName");
	json_object_object_del(c, "contributorType");
	json_object_object_add(c, "creatorName", name);
	return c;
}

/* creators: the contributors with the Author role, or failing that the
 * first contributor; contributors: everyone with a role left after
 * Author, Funder and Sponsor; fundingReferences: Funders and Sponsors. */
static void
add_people(struct json_object *attrs, struct json_object *md)
{
	struct json_object *list = get_array(md, "contributor");
	struct json_object *creators = json_object_new_array(), *contributors = json_object_new_array();
	struct json_object *funding = NULL;

	for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
		struct json_object *c = json_object_array_get_idx(list, i), *p;
		struct roles r;

		if (!json_object_is_type(c, json_type_object))
			continue;
		roles_load(&r, c);
		if (roles_has(&r, "Sponsor") || roles_has(&r, "Funder")) {
			if (funding == NULL)
				funding = json_object_new_array();
			json_object_array_add(funding, funding_reference(c));
			roles_remove(&r, "Sponsor");
			roles_remove(&r, "Funder");
			if (r.n == 0) {
				free(r.name);
				continue;
			}
		}
		p = party(c, "contributorName");
		if (roles_has(&r, "Author")) {
			json_object_array_add(creators, as_creator(p));
			roles_remove(&r, "Author");
			if (r.n == 0) {
				json_object_put(p);
				free(r.name);
				continue;
			}
		}
		put_str(p, "contributorType", contributor_type(&r));
		json_object_array_add(contributors, p);
		free(r.name);
	}
	if (json_object_array_length(creators) == 0 && json_object_array_length(contributors) > 0)
		json_object_array_add(creators, as_creator(json_object_array_get_idx(contributors, 0)));
	if (funding != NULL)
		json_object_object_add(attrs, "fundingReferences", funding);
	json_object_object_add(attrs, "contributors", contributors);
	json_object_object_add(attrs, "creators", creators);
}

static char *
ascii_lower(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

/* relatedIdentifiers from relatedResource: "doi:..." identifiers and
 * doi.org or bioRxiv URLs as DOIs, other https identifiers and urls as
 * URLs, all lower case; identifiers of any other form are left out. */
static void
add_related(struct json_object *attrs, struct json_object *md)
{
	struct json_object *list = get_array(md, "relatedResource"), *out;

	if (list == NULL || json_object_array_length(list) == 0)
		return;
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *res = json_object_array_get_idx(list, i), *e;
		const char *ident = get_str(res, "identifier"), *url = get_str(res, "url");
		const char *relation = get_str(res, "relation"), *type, *p;
		char *id;

		if (ident != NULL) {
			if (strncasecmp(ident, "doi:", 4) == 0) {
				type = "DOI";
				id = xstrdup(ident + 4);
			} else if ((p = strstr(ident, "doi.org/")) != NULL) {
				type = "DOI";
				id = xstrdup(p + 8);
			} else if ((p = strstr(ident, "biorxiv.org/content/")) != NULL) {
				/* .../content/10.1101/2020.01.01.123456v1: up to the "v" */
				type = "DOI";
				p += strlen("biorxiv.org/content/");
				id = strndup(p, strcspn(p, "v"));
			} else if (strncmp(ident, "https://", 8) == 0) {
				type = "URL";
				id = xstrdup(ident);
			} else
				continue;
		} else if (url != NULL) {
			type = "URL";
			id = xstrdup(url);
		} else
			continue;	/* nothing to point at */
		char *lower = ascii_lower(id);
		free(id);
		e = json_object_new_object();
		put_str(e, "relatedIdentifier", lower);
		put_str(e, "relatedIdentifierType", type);
		json_object_object_add(e, "relationType", relation ? json_object_new_string(
		    strncmp(relation, "dcite:", 6) == 0 ? relation + 6 : relation) : NULL);
		json_object_array_add(out, e);
		free(lower);
	}
	json_object_object_add(attrs, "relatedIdentifiers", out);
}

/* rightsList: one SPDX entry per license ("spdx:CC-BY-4.0"). */
static int
add_rights(struct json_object *attrs, struct json_object *md, char *err, size_t errlen)
{
	struct json_object *list = get_array(md, "license"), *out = json_object_new_array();

	for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
		struct json_object *l = json_object_array_get_idx(list, i), *e;
		const char *s = json_object_is_type(l, json_type_string) ? json_object_get_string(l) : "";
		const char *colon = strchr(s, ':');

		if (colon == NULL || colon == s || colon[1] == '\0' || strpbrk(s, " \t\r\n") != NULL) {
			snprintf(err, errlen, "license '%s' is not of the form scheme:identifier", s);
			json_object_put(out);
			return -1;
		}
		if ((size_t)(colon - s) != 4 || strncasecmp(s, "spdx", 4) != 0) {
			snprintf(err, errlen, "license '%s': only SPDX licenses can be described to DataCite", s);
			json_object_put(out);
			return -1;
		}
		e = json_object_new_object();
		put_str(e, "rightsIdentifier", colon + 1);
		put_str(e, "rightsIdentifierScheme", "SPDX");
		put_str(e, "schemeUri", "https://spdx.org/licenses/");
		json_object_array_add(out, e);
	}
	json_object_object_add(attrs, "rightsList", out);
	return 0;
}

struct json_object *
datacite_document(const struct config *cfg, struct json_object *md, bool publish,
    char *err, size_t errlen)
{
	const char *doi = get_str(md, "doi"), *name = get_str(md, "name"), *id = get_str(md, "id");
	const char *url = get_str(md, "url"), *version = get_str(md, "version");
	const char *description = get_str(md, "description"), *published = get_str(md, "datePublished");
	struct json_object *attrs, *alt, *publisher, *types, *kw, *doc, *data;
	char buf[1024];

	if (doi == NULL || !*doi || name == NULL || id == NULL) {
		snprintf(err, errlen, "the metadata lacks doi, name or id");
		return NULL;
	}
	if (published == NULL || strlen(published) < 4 || strspn(published, "0123456789") < 4) {
		snprintf(err, errlen, "the metadata lacks datePublished");
		return NULL;
	}
	attrs = json_object_new_object();
	if (publish)
		put_str(attrs, "event", "publish");
	alt = json_object_new_array();
	snprintf(buf, sizeof(buf), "https://identifiers.org/%s", id);
	json_object_array_add(alt, pair("alternateIdentifier", buf, "alternateIdentifierType", "URL"));
	json_object_array_add(alt, pair("alternateIdentifier", url ? url : "",
	    "alternateIdentifierType", "URL"));
	json_object_object_add(attrs, "alternateIdentifiers", alt);
	put_str(attrs, "doi", doi);
	if (version != NULL && *version)
		put_str(attrs, "version", version);
	struct json_object *titles = json_object_new_array(), *descs = json_object_new_array(), *d;
	json_object_array_add(titles, json_object_new_object());
	put_str(json_object_array_get_idx(titles, 0), "title", name);
	json_object_object_add(attrs, "titles", titles);
	d = json_object_new_object();
	json_object_object_add(d, "description", description ? json_object_new_string(description) : NULL);
	put_str(d, "descriptionType", "Abstract");
	json_object_array_add(descs, d);
	json_object_object_add(attrs, "descriptions", descs);

	publisher = json_object_new_object();
	snprintf(buf, sizeof(buf), "%s Archive", cfg->instance_name);
	put_str(publisher, "name", buf);
	put_str(publisher, "lang", "en");
	if (*cfg->instance_identifier) {
		put_str(publisher, "schemeUri", "https://scicrunch.org/resolver/");
		snprintf(buf, sizeof(buf), "https://scicrunch.org/resolver/%s", cfg->instance_identifier);
		put_str(publisher, "publisherIdentifier", buf);
		put_str(publisher, "publisherIdentifierScheme", "RRID");
	}
	json_object_object_add(attrs, "publisher", publisher);
	snprintf(buf, sizeof(buf), "%.4s", published);
	put_str(attrs, "publicationYear", buf);
	types = pair("resourceType", "Neural Data", "resourceTypeGeneral", "Dataset");
	json_object_object_add(attrs, "types", types);
	put_str(attrs, "url", url ? url : "");
	if (add_rights(attrs, md, err, errlen) != 0) {
		json_object_put(attrs);
		return NULL;
	}
	put_str(attrs, "schemaVersion", "http://datacite.org/schema/kernel-4");
	add_people(attrs, md);
	add_related(attrs, md);
	if ((kw = get_array(md, "keywords")) != NULL) {
		struct json_object *subjects = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(kw); i++) {
			struct json_object *s = json_object_new_object();
			json_object_object_add(s, "subject", json_object_get(json_object_array_get_idx(kw, i)));
			json_object_array_add(subjects, s);
		}
		json_object_object_add(attrs, "subjects", subjects);
	}

	data = json_object_new_object();
	put_str(data, "id", doi);
	put_str(data, "type", "dois");
	json_object_object_add(data, "attributes", attrs);
	doc = json_object_new_object();
	json_object_object_add(doc, "data", data);
	return doc;
}

/* ---- the REST API --------------------------------------------------- */

/* <datacite_api_url>/<doi>; the DOI's own slashes stay, as DataCite
 * expects. */
static void
doi_url(const struct config *cfg, const char *doi, char *out, size_t outlen)
{
	size_t n = strlen(cfg->datacite_api_url);

	while (n > 0 && cfg->datacite_api_url[n - 1] == '/')
		n--;
	snprintf(out, outlen, "%.*s/%s", (int)n, cfg->datacite_api_url, doi);
}

static int
call(const struct config *cfg, const char *method, const char *url, const char *body,
    long *status, struct buf *out, char *err, size_t errlen)
{
	/* No "Expect: 100-continue": some proxies stall on it, and the body
	 * is small. */
	const char *headers[] = {
		"Accept: application/vnd.api+json",
		"Expect:",
		body != NULL ? "Content-Type: application/vnd.api+json" : NULL,
		NULL,
	};
	struct httpc_opts opts = {
		.username = cfg->datacite_username, .password = cfg->datacite_password,
		.timeout = DATACITE_TIMEOUT,
	};

	out->len = 0;
	if (httpc_request_opts(method, url, headers, body, &opts, status, out, err, errlen) != 0)
		return DATACITE_RETRY;
	return DATACITE_OK;
}

/* An error answer in err, with the start of what DataCite said (on one
 * line: it ends up in `dandi-jobs list`). Retry on 5xx, 408 and 429. */
static int
http_failure(const char *method, const char *url, long status, const struct buf *out,
    char *err, size_t errlen)
{
	char	excerpt[512];
	size_t	n = out->len < sizeof(excerpt) - 1 ? out->len : sizeof(excerpt) - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out->data[i];
		excerpt[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	excerpt[n] = '\0';
	snprintf(err, errlen, "DataCite %s %s: HTTP %ld: %s", method, url, status, excerpt);
	return status >= 500 || status == 408 || status == 429 ? DATACITE_RETRY : DATACITE_FAIL;
}

int
datacite_register(const struct config *cfg, const char *doi, const char *body,
    char *err, size_t errlen)
{
	struct buf	out;
	long		status;
	char		url[1024];
	int		rc;

	buf_init(&out);
	rc = call(cfg, "POST", cfg->datacite_api_url, body, &status, &out, err, errlen);
	if (rc != DATACITE_OK)
		goto done;
	if (status == 200 || status == 201)
		goto done;
	/* 422 "This DOI has already been taken": an earlier attempt was
	 * registered (its answer lost) or the DOI was made by hand. The PUT
	 * brings it up to date with this version's metadata. */
	if (status == 422 && out.data != NULL && (strcasestr(out.data, "already been taken") != NULL ||
	    strcasestr(out.data, "already exists") != NULL)) {
		doi_url(cfg, doi, url, sizeof(url));
		rc = call(cfg, "PUT", url, body, &status, &out, err, errlen);
		if (rc == DATACITE_OK && status != 200 && status != 201)
			rc = http_failure("PUT", url, status, &out, err, errlen);
		goto done;
	}
	rc = http_failure("POST", cfg->datacite_api_url, status, &out, err, errlen);
done:
	buf_free(&out);
	return rc;
}

int
datacite_delete_draft(const struct config *cfg, const char *doi, enum datacite_fate *fate,
    char *err, size_t errlen)
{
	struct buf		 out;
	long			 status;
	char			 url[1024];
	int			 rc;
	struct json_object	*doc = NULL, *data, *attrs, *state;

	*fate = DATACITE_KEPT;
	buf_init(&out);
	doi_url(cfg, doi, url, sizeof(url));
	if ((rc = call(cfg, "GET", url, NULL, &status, &out, err, errlen)) != DATACITE_OK)
		goto done;
	if (status == 404) {	/* never registered (or gone already) */
		*fate = DATACITE_UNKNOWN;
		goto done;
	}
	if (status != 200) {
		rc = http_failure("GET", url, status, &out, err, errlen);
		goto done;
	}
	(void)jsonread(out.data, out.len, &doc, NULL, 0);
	if (doc == NULL || !json_object_object_get_ex(doc, "data", &data) ||
	    !json_object_object_get_ex(data, "attributes", &attrs) ||
	    !json_object_object_get_ex(attrs, "state", &state) ||
	    !json_object_is_type(state, json_type_string)) {
		snprintf(err, errlen, "DataCite GET %s: no data.attributes.state in the answer", url);
		rc = DATACITE_FAIL;
		goto done;
	}
	if (strcmp(json_object_get_string(state), "draft") != 0)
		goto done;	/* registered or findable DOIs are permanent */
	if ((rc = call(cfg, "DELETE", url, NULL, &status, &out, err, errlen)) != DATACITE_OK)
		goto done;
	if (status == 204 || status == 200 || status == 404)
		*fate = status == 404 ? DATACITE_UNKNOWN : DATACITE_DELETED;
	else
		rc = http_failure("DELETE", url, status, &out, err, errlen);
done:
	json_object_put(doc);
	buf_free(&out);
	return rc;
}
