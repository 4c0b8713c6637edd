// Helpers over the Dandiset JSON schema: dereferencing local $refs, choosing
// which properties the form edits, and a small validator for those fields.
// The server validates the whole document; this only gives early feedback.

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
  if (t.includes('string')) return (s.maxLength || 0) > 300 ? 'textarea' : 'string';
  return null;
}

// Splits the schema's editable top-level properties into the ones the form
// edits ("basic": scalars and arrays of scalars) and the rest ("complex",
// edited as JSON), dropping readOnly ones and fixed keys.
export function splitProperties(schema) {
  const basic = [];
  const complex = [];
  const required = new Set(schema.required || []);
  for (const [name, s] of Object.entries(schema.properties || {})) {
    if (s.readOnly || s.const !== undefined || name === 'schemaKey') continue;
    const kind = fieldKind(s);
    const entry = { name, schema: s, title: s.title || name, description: s.description || '', required: required.has(name), kind };
    if (kind) basic.push(entry);
    else complex.push(entry);
  }
  return { basic, complex };
}

function checkFormat(fmt, v) {
  if (fmt === 'uri') return /^[a-z][a-z0-9+.-]*:\S+$/i.test(v) ? '' : 'must be a URI';
  if (fmt === 'email') return /^[^@\s]+@[^@\s]+$/.test(v) ? '' : 'must be an e-mail address';
  if (fmt === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(v) ? '' : 'must be a date (YYYY-MM-DD)';
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
    if (s.pattern) {
      try { if (!new RegExp(s.pattern, 'u').test(v)) return `must match pattern "${s.pattern}"`; } catch { /* ignore bad patterns */ }
    }
    if (s.format) return checkFormat(s.format, v);
  } else if (typeof v === 'number') {
    if (t.length && !t.includes('number') && !t.includes('integer')) return `must be ${t.join(' or ')}`;
    if (t.includes('integer') && !t.includes('number') && !Number.isInteger(v)) return 'must be integer';
  }
  return '';
}

// Validates one property value; returns a list of messages.
export function validateField(entry, value) {
  const s = entry.schema;
  const missing = value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
  if (missing) {
    if (entry.required) return ['required information'];
    return [];
  }
  const msgs = [];
  if (typesOf(s).includes('array')) {
    if (!Array.isArray(value)) return ['must be array'];
    if (s.minItems != null && value.length < s.minItems) msgs.push(`must NOT have fewer than ${s.minItems} items`);
    if (s.maxItems != null && value.length > s.maxItems) msgs.push(`must NOT have more than ${s.maxItems} items`);
    value.forEach((item, i) => {
      const m = checkScalar(s.items || {}, item);
      if (m) msgs.push(`item ${i + 1} ${m}`);
    });
  } else {
    const m = checkScalar(s, value);
    if (m) msgs.push(m);
  }
  return msgs;
}

// Validates a complex property (edited as JSON): its JSON type and, for
// arrays of objects, that each item is an object with the required keys.
export function validateComplex(entry, value) {
  if (value === undefined || value === null) return entry.required ? ['required information'] : [];
  const s = entry.schema;
  const t = typesOf(s);
  const msgs = [];
  if (t.includes('array')) {
    if (!Array.isArray(value)) return ['must be array'];
    if (s.minItems != null && value.length < s.minItems) msgs.push(`must NOT have fewer than ${s.minItems} items`);
    const item = s.items || {};
    const variants = item.oneOf || item.anyOf || [item];
    value.forEach((v, i) => {
      if (!v || typeof v !== 'object' || Array.isArray(v)) { msgs.push(`item ${i + 1} must be object`); return; }
      const variant = variants.find((x) => x.properties && x.properties.schemaKey && (x.properties.schemaKey.const === v.schemaKey || x.properties.schemaKey.default === v.schemaKey)) || variants[0];
      for (const r of (variant && variant.required) || []) {
        if (v[r] === undefined) msgs.push(`item ${i + 1} must have required property '${r}'`);
      }
    });
  } else if (t.includes('object') && (typeof value !== 'object' || Array.isArray(value))) {
    msgs.push('must be object');
  }
  return msgs;
}

export function licenseChoices(schema, info) {
  const lic = schema && schema.properties && schema.properties.license;
  const e = lic && lic.items && lic.items.enum;
  if (e && e.length) return e;
  const l = info && info.instance_config && info.instance_config.licenses;
  return l && l.length ? l : ['spdx:CC0-1.0', 'spdx:CC-BY-4.0'];
}
