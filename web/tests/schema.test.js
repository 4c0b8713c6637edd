import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { derefSchema, splitProperties, validateField, validateComplex, licenseChoices, fieldKind } from '../src/lib/schema.js';

const raw = JSON.parse(readFileSync(resolve(__dirname, '../../t/web/fixtures/dandiset-schema-0.6.9.json'), 'utf8'));

describe('schema', () => {
  const schema = derefSchema(raw);
  it('dereferences local $refs and survives recursion', () => {
    expect(JSON.stringify(schema)).not.toContain('"$ref"');
    expect(schema.properties.license.items.enum).toEqual(['spdx:CC0-1.0', 'spdx:CC-BY-4.0']);
    const rec = derefSchema({ $defs: { A: { type: 'object', properties: { a: { $ref: '#/$defs/A' } } } }, properties: { x: { $ref: '#/$defs/A' } } });
    expect(rec.properties.x.properties.a.description).toMatch(/recursive/);
  });
  it('splits editable properties into form fields and JSON fields', () => {
    const { basic, complex } = splitProperties(schema);
    const b = basic.map((x) => x.name);
    const c = complex.map((x) => x.name);
    expect(b).toEqual(expect.arrayContaining(['name', 'description', 'license', 'keywords', 'protocol']));
    expect(c).toEqual(expect.arrayContaining(['contributor', 'about', 'relatedResource', 'wasGeneratedBy']));
    for (const ro of ['id', 'identifier', 'citation', 'assetsSummary', 'access', 'schemaKey', 'version']) {
      expect(b).not.toContain(ro);
      expect(c).not.toContain(ro);
    }
    expect(basic.find((x) => x.name === 'license').kind).toBe('enum-array');
    expect(basic.find((x) => x.name === 'description').kind).toBe('textarea');
    expect(basic.find((x) => x.name === 'name').required).toBe(true);
  });
  it('validates simple fields like the original form', () => {
    const { basic } = splitProperties(schema);
    const f = (n) => basic.find((x) => x.name === n);
    expect(validateField(f('name'), '')).toEqual(['required information']);
    expect(validateField(f('name'), 'x'.repeat(151))).toEqual(['must NOT be longer than 150 characters']);
    expect(validateField(f('name'), 'ok')).toEqual([]);
    expect(validateField(f('license'), ['spdx:MIT'])[0]).toMatch(/allowed values/);
    expect(validateField(f('license'), [])).toEqual(['required information']);
    expect(validateField(f('protocol'), ['not a uri'])[0]).toMatch(/URI/);
    expect(validateField(f('keywords'), undefined)).toEqual([]);
  });
  it('checks JSON-edited fields for shape and required keys', () => {
    const { complex } = splitProperties(schema);
    const contributor = complex.find((x) => x.name === 'contributor');
    expect(validateComplex(contributor, {})).toEqual(['must be array']);
    expect(validateComplex(contributor, [{ schemaKey: 'Person' }]).join()).toMatch(/required property 'name'/);
    expect(validateComplex(contributor, [{ schemaKey: 'Person', name: 'Doe, Jane' }])).toEqual([]);
  });
  it('offers licenses from the schema, else from the server info', () => {
    expect(licenseChoices(schema, null)).toEqual(['spdx:CC0-1.0', 'spdx:CC-BY-4.0']);
    expect(licenseChoices(null, { instance_config: { licenses: ['spdx:X'] } })).toEqual(['spdx:X']);
    expect(fieldKind({ type: 'object' })).toBe(null);
  });
});
