// The schema-driven metadata form's logic, kept out of the components so
// that it is unit-tested: which widget a schema gets, the properties a form
// shows, labels for enum values, new list items, and immutable updates of
// the document at a path.
import { normSchema, variantsOf, variantKey, fieldKind } from './schema.js';

// The widget for a (normalized) schema: the scalar kinds of fieldKind, or
// 'object', 'list' (array of objects) or 'json' (anything else).
export function widgetOf(schema) {
  const s = normSchema(schema);
  if (s.type === 'array' || (s.items && !s.type)) {
    const it = normSchema(s.items);
    if (it.type === 'object' || it.oneOf || it.anyOf || it.properties) return 'list';
  }
  if (s.type === 'object' || s.properties) return 'object';
  const k = fieldKind(s);
  if (k === 'string' && s.format === 'date') return 'date';
  return k || 'json';
}

// Labels where the schema's title is a sentence or a bare word that needs
// its format; keyed by "<schemaKey>.<property>".
const LABELS = {
  'Person.name': 'Name (Last, First)',
  'Person.identifier': 'ORCID',
  'Person.email': 'E-mail',
  'Organization.identifier': 'ROR identifier',
  'Organization.email': 'E-mail',
  'Affiliation.identifier': 'ROR identifier',
  'ContactPoint.email': 'E-mail',
};
const HINTS = {
  'Person.name': 'Family name, comma, given names. Example: Lovelace, Augusta Ada',
  'Person.identifier': 'An ORCID iD, for example 0000-0002-1825-0097 (without https://orcid.org/).',
  'Organization.identifier': 'A ror.org address, for example https://ror.org/05qwgg493',
  'Affiliation.identifier': 'A ror.org address, for example https://ror.org/05qwgg493',
};

// The properties an object form shows, in the schema's order but the name
// first: not read-only, not the fixed
// schemaKey, not objects whose every property is read-only (as the
// original's editor hides them).
export function formProperties(schema) {
  const s = normSchema(schema);
  const key = variantKey(s);
  const required = new Set(s.required || []);
  const out = [];
  for (const [name, raw] of Object.entries(s.properties || {})) {
    const p = normSchema(raw);
    if (p.readOnly || p.const !== undefined || name === 'schemaKey') continue;
    if (p.properties && Object.values(p.properties).every((x) => normSchema(x).readOnly)) continue;
    const k = `${key}.${name}`;
    out.push({
      name,
      schema: p,
      title: LABELS[k] || p.title || name,
      description: HINTS[k] || p.description || '',
      required: required.has(name),
      widget: widgetOf(p),
    });
  }
  // The name first (the schema puts the identifier before it).
  return out.sort((a, b) => (b.name === 'name') - (a.name === 'name'));
}

// "dcite:ContactPerson" -> "Contact Person", "spdx:CC-BY-4.0" -> "CC-BY-4.0".
export function enumLabel(v) {
  if (typeof v !== 'string') return String(v);
  const bare = v.includes(':') && !/^https?:/.test(v) ? v.slice(v.indexOf(':') + 1) : v;
  return bare.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
}

// A new item of a list variant: its schemaKey and the defaults of its
// booleans (includeInCitation), nothing else.
export function newItem(variant) {
  const s = normSchema(variant);
  const key = variantKey(s);
  if (s.type !== 'object' && !s.properties) return s.type === 'string' ? '' : null;
  const o = {};
  if (s.properties && s.properties.schemaKey) o.schemaKey = key;
  for (const [name, raw] of Object.entries(s.properties || {})) {
    const p = normSchema(raw);
    if (p.type === 'boolean' && typeof p.default === 'boolean' && !p.readOnly) o[name] = p.default;
  }
  return o;
}

// A short description of a list item for its heading.
export function itemSummary(item, i) {
  if (!item || typeof item !== 'object') return `Item ${i + 1}`;
  const text = item.name || item.identifier || item.url || item.email || '';
  return text ? String(text) : `${item.schemaKey || 'Item'} ${i + 1} (new)`;
}

export { variantsOf, variantKey };

// Path steps from "contributor[0].affiliation[1].name".
export function parsePath(path) {
  const out = [];
  for (const m of String(path).matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

export function getIn(doc, path) {
  return parsePath(path).reduce((o, k) => (o == null ? undefined : o[k]), doc);
}

// A copy of doc with the value at path replaced (undefined removes an
// object key); the containers on the way are copied, the rest shared.
export function setIn(doc, path, value) {
  const steps = Array.isArray(path) ? path : parsePath(path);
  if (!steps.length) return value;
  const [k, ...rest] = steps;
  const base = doc == null ? (typeof k === 'number' ? [] : {}) : doc;
  const copy = Array.isArray(base) ? base.slice() : { ...base };
  const v = setIn(base[k], rest, value);
  if (v === undefined && !Array.isArray(copy)) delete copy[k];
  else copy[k] = v;
  return copy;
}

// Moves item i of a list by d (-1 up, +1 down); the same list if it cannot.
export function moveItem(list, i, d) {
  const j = i + d;
  if (!Array.isArray(list) || j < 0 || j >= list.length) return list;
  const out = list.slice();
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

// An input's id from a field path: "mf-contributor-0-name".
export const fieldId = (path) => `mf-${parsePath(path).join('-')}`;

// Messages by path ({ "contributor[0].name": ["required information"] }).
export function errorsByPath(errors) {
  const m = {};
  for (const e of errors) (m[e.path] ||= []).push(e.message);
  return m;
}
