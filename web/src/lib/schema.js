// Helpers over the Dandiset JSON schema: dereferencing local $refs, the
// widget of a scalar property, and a small validator of a whole document
// with messages by field path. The server validates the document when it
// is saved; this gives early feedback in the form.

// Replaces every local "#/..." $ref by the schema it names (sibling keys are
// kept; they override). Recursive definitions are cut after one level.
export function derefSchema(root) {
  const lookup = (ref) => ref.replace(/^#\//, '').split('/').reduce(
    (o, k) => (o == null ? o : o[k.replace(/~1/g, '/').replace(/~0/g, '~')]), root);
  const walk = (node, seen) => {
    if (Array.isArray(node)) return node.map((n) => walk(n, seen));
    if (!node || typeof node !== 'object') return node;
    let out = {};
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
      if (seen.includes(node.$ref)) return { type: 'object', description: `(recursive ${node.$ref})` };
      const target = lookup(node.$ref);
      if (target) out = walk(target, [...seen, node.$ref]);
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' || k === '$defs' || k === 'definitions') continue;
      out[k] = walk(v, seen);
    }
    return out;
  };
  return walk(root, []);
}

const SCALARS = ['string', 'number', 'integer', 'boolean', 'null'];

function typesOf(s) {
  if (!s) return [];
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  if (s.enum) return ['string'];
  if (s.anyOf) return s.anyOf.flatMap(typesOf);
  return [];
}

const isScalar = (s) => { const t = typesOf(s).filter((x) => x !== 'null'); return t.length > 0 && t.every((x) => SCALARS.includes(x)); };

// A property's editing widget, or null when the form does not edit it.
export function fieldKind(s) {
  if (!s) return null;
  const t = typesOf(s).filter((x) => x !== 'null');
  if (t.includes('array')) {
    const it = s.items || {};
    if (it.enum) return 'enum-array';
    if (isScalar(it)) return 'string-array';
    return null;
  }
  if (s.enum) return 'enum';
  if (t.includes('boolean')) return 'boolean';
  if (t.includes('number') || t.includes('integer')) return 'number';
  // Long free text gets a text area; URIs and other formats one line.
  if (t.includes('string')) return (s.maxLength || 0) > 300 && !s.format ? 'textarea' : 'string';
  return null;
}

function checkFormat(fmt, v) {
  if (fmt === 'uri') return /^[a-z][a-z0-9+.-]*:\S+$/i.test(v) ? '' : 'must be a URI';
  if (fmt === 'email') return /^[^@\s]+@[^@\s]+$/.test(v) ? '' : 'must be an e-mail address';
  if (fmt === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(v) ? '' : 'must be a date (YYYY-MM-DD)';
  if (fmt === 'date-time') return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v) ? '' : 'must be a date and time (YYYY-MM-DDTHH:MM:SSZ)';
  return '';
}

function checkScalar(s, v) {
  if (v === null || v === undefined) return '';
  if (s.enum && !s.enum.includes(v)) return 'must be equal to one of the allowed values';
  const t = typesOf(s);
  if (typeof v === 'string') {
    if (t.length && !t.includes('string')) return `must be ${t.join(' or ')}`;
    if (s.maxLength != null && v.length > s.maxLength) return `must NOT be longer than ${s.maxLength} characters`;
    if (s.minLength != null && v.length < s.minLength) return `must NOT be shorter than ${s.minLength} characters`;
    if (s.pattern && patternRe(s.pattern) && !patternRe(s.pattern).test(v)) return `must match pattern "${s.pattern}"`;
    if (s.format) return checkFormat(s.format, v);
  } else if (typeof v === 'number') {
    if (t.length && !t.includes('number') && !t.includes('integer')) return `must be ${t.join(' or ')}`;
    if (t.includes('integer') && !t.includes('number') && !Number.isInteger(v)) return 'must be integer';
  }
  return '';
}

// A string pattern as a RegExp: Unicode mode as Ajv compiles it, else
// plain mode (a pattern like ^RRID\:.* is refused in Unicode mode).
const patterns = new Map();
function patternRe(p) {
  if (!patterns.has(p)) {
    let re = null;
    try { re = new RegExp(p, 'u'); } catch { try { re = new RegExp(p); } catch { re = null; } }
    patterns.set(p, re);
  }
  return patterns.get(p);
}

// Merges allOf parts and unwraps a nullable anyOf ([X, {type: null}]), as
// older schemas (pydantic 1) wrap $refs.
export function normSchema(s) {
  if (!s || typeof s !== 'object') return {};
  let out = s;
  if (Array.isArray(s.allOf)) {
    out = { ...s };
    delete out.allOf;
    for (const p of s.allOf) out = { ...normSchema(p), ...out };
  }
  const alt = out.anyOf || out.oneOf;
  if (Array.isArray(alt)) {
    const real = alt.filter((a) => a && a.type !== 'null');
    if (real.length === 1 && !(real[0].properties && real[0].properties.schemaKey)) {
      const rest = { ...out };
      delete rest.anyOf;
      delete rest.oneOf;
      out = { ...normSchema(real[0]), ...rest };
    }
  }
  return out;
}

// The alternatives of an item schema (oneOf/anyOf by schemaKey), or itself.
export function variantsOf(s) {
  s = normSchema(s);
  const alt = (s.oneOf || s.anyOf || []).map(normSchema).filter((a) => a.type !== 'null');
  return alt.length ? alt : [s];
}
export const variantKey = (v) => {
  const k = v && v.properties && v.properties.schemaKey;
  return (k && (k.const ?? k.default)) || (v && v.title) || '';
};
// The variant a value is, by its schemaKey; null when none matches.
export function variantFor(s, value) {
  const vs = variantsOf(s);
  if (vs.length === 1) return vs[0];
  const key = value && typeof value === 'object' ? value.schemaKey : undefined;
  return vs.find((v) => variantKey(v) === key) || null;
}

const jsType = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const typeOk = (types, v) => {
  const t = jsType(v);
  return types.some((x) => x === t || (x === 'integer' && t === 'number' && Number.isInteger(v)));
};
export const joinPath = (path, key) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

// Validates value against schema; returns [{ path, message }] with paths
// like contributor[0].identifier. Read-only properties are the server's
// and not checked.
export function validate(schema, value, path = '', out = []) {
  const s = normSchema(schema);
  if (value === undefined) return out;
  const add = (p, message) => out.push({ path: p, message });
  if (s.const !== undefined && value !== s.const) { add(path, `must be equal to constant "${s.const}"`); return out; }
  if (s.enum && !s.enum.includes(value)) { add(path, 'must be equal to one of the allowed values'); return out; }
  if ((s.oneOf || s.anyOf) && !s.properties) {
    const vs = variantsOf(s);
    if (vs.some((x) => x.properties && x.properties.schemaKey)) {
      const v = variantFor(s, value);
      if (!v) add(path, `must be one of: ${vs.map(variantKey).join(', ')}`);
      else validate(v, value, path, out);
    } else if (!vs.some((x) => !validate(x, value, path).length)) {
      add(path, 'must match one of the allowed forms');
    }
    return out;
  }
  const types = typesOf(s);
  if (types.length && !typeOk(types, value)) { add(path, `must be ${types.join(' or ')}`); return out; }
  if (Array.isArray(value)) {
    if (s.minItems != null && value.length < s.minItems) add(path, s.minItems === 1 ? 'required information' : `must NOT have fewer than ${s.minItems} items`);
    if (s.maxItems != null && value.length > s.maxItems) add(path, `must NOT have more than ${s.maxItems} items`);
    if (s.items) value.forEach((item, i) => validate(s.items, item, joinPath(path, i), out));
  } else if (value && typeof value === 'object') {
    const props = s.properties || {};
    for (const r of s.required || []) {
      if (value[r] === undefined && !(props[r] && normSchema(props[r]).readOnly)) add(joinPath(path, r), 'required information');
    }
    for (const [k, v] of Object.entries(value)) {
      const ps = props[k];
      if (ps) { if (!normSchema(ps).readOnly) validate(ps, v, joinPath(path, k), out); } else if (s.additionalProperties === false) add(path, `must NOT have additional property '${k}'`);
    }
  } else {
    const m = checkScalar(s, value);
    if (m) add(path, m);
  }
  return out;
}

// dandischema's model rules for a Dandiset that its JSON schema does not
// carry (the server checks them too, src/lib/dschema.c): a person's name
// is "Last, First", some contributor is the contact person, who has an
// e-mail address.
const NAME_RE = /^([\p{L}\p{N}_\s\-.']+),\s+([\p{L}\p{N}_\s\-.']+)$/u;
export function dandisetRules(md) {
  const out = [];
  const list = md && md.contributor;
  if (!Array.isArray(list)) return out;
  let contact = false;
  list.forEach((c, i) => {
    if (!c || typeof c !== 'object') return;
    if (c.schemaKey === 'Person' && typeof c.name === 'string' && c.name && !NAME_RE.test(c.name)) out.push({ path: `contributor[${i}].name`, message: 'must be "Last, First" (for example: Lovelace, Augusta Ada)' });
    if (Array.isArray(c.roleName) && c.roleName.includes('dcite:ContactPerson')) {
      contact = true;
      if (c.email == null || c.email === '') out.push({ path: `contributor[${i}].email`, message: 'a contact person must have an e-mail address' });
    }
  });
  if (list.length && !contact) out.push({ path: 'contributor', message: 'at least one contributor must have the role Contact Person' });
  return out;
}

export function licenseChoices(schema, info) {
  const lic = schema && schema.properties && schema.properties.license;
  const e = lic && lic.items && lic.items.enum;
  if (e && e.length) return e;
  const l = info && info.instance_config && info.instance_config.licenses;
  return l && l.length ? l : ['spdx:CC0-1.0', 'spdx:CC-BY-4.0'];
}
