import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { derefSchema, validate, dandisetRules, licenseChoices, fieldKind, normSchema, variantFor } from '../src/lib/schema.js';

const load = (p) => JSON.parse(readFileSync(resolve(__dirname, p), 'utf8'));
const raw = load('../../t/web/fixtures/dandiset-schema-0.6.9.json');
const served = load('../../share/schema/0.7.0/dandiset.json');

const good = () => ({
  schemaKey: 'Dandiset',
  name: 'A title',
  description: 'What it is',
  license: ['spdx:CC-BY-4.0'],
  contributor: [{ schemaKey: 'Person', name: 'Lovelace, Augusta Ada', email: 'ada@example.org', identifier: '0000-0002-1825-0097', roleName: ['dcite:ContactPerson'], includeInCitation: true, affiliation: [{ schemaKey: 'Affiliation', name: 'Analytical Engine Society' }] }],
});

describe('schema', () => {
  const schema = derefSchema(raw);
  it('dereferences local $refs and survives recursion', () => {
    expect(JSON.stringify(schema)).not.toContain('"$ref"');
    expect(schema.properties.license.items.enum).toEqual(['spdx:CC0-1.0', 'spdx:CC-BY-4.0']);
    const rec = derefSchema({ $defs: { A: { type: 'object', properties: { a: { $ref: '#/$defs/A' } } } }, properties: { x: { $ref: '#/$defs/A' } } });
    expect(rec.properties.x.properties.a.description).toMatch(/recursive/);
  });
  it('validates a whole document with messages by field path', () => {
    for (const s of [schema, derefSchema(served)]) {
      expect(validate(s, good())).toEqual([]);
      const md = good();
      md.contributor[0].identifier = '1234';
      md.contributor[0].affiliation[0] = { schemaKey: 'Affiliation' };
      md.license = ['spdx:MIT'];
      delete md.description;
      md.contributor.push({ schemaKey: 'Robot', name: 'R2' });
      const errs = validate(s, md);
      const at = (p) => errs.filter((e) => e.path === p).map((e) => e.message);
      expect(at('contributor[0].identifier')[0]).toMatch(/must match pattern "\^\\d\{4\}/);
      expect(at('contributor[0].affiliation[0].name')).toEqual(['required information']);
      expect(at('license[0]')[0]).toMatch(/allowed values/);
      expect(at('description')).toEqual(['required information']);
      expect(at('contributor[1]')[0]).toMatch(/one of: Person, Organization/);
    }
  });
  it('checks strings, numbers, lists and alternatives without a schemaKey', () => {
    const s = { type: 'object', properties: { n: { type: 'integer' }, t: { type: 'string', maxLength: 3 }, l: { type: 'array', minItems: 1, items: { anyOf: [{ type: 'string', format: 'date' }, { type: 'string', format: 'date-time' }] } } }, required: ['l'] };
    expect(validate(s, { l: ['2024-01-02', '2024-01-02T03:04:05Z'] })).toEqual([]);
    expect(validate(s, { n: 1.5, t: 'long', l: ['yesterday'] }).map((e) => e.path)).toEqual(['n', 't', 'l[0]']);
    expect(validate(s, { l: [] })).toEqual([{ path: 'l', message: 'required information' }]);
    expect(validate(s, {})).toEqual([{ path: 'l', message: 'required information' }]);
  });
  it('compiles a pattern Unicode mode refuses in plain mode', () => {
    const s = derefSchema(served).properties.wasGeneratedBy.items.properties.wasAssociatedWith;
    const sw = variantFor(s.items, { schemaKey: 'Software' });
    expect(validate(sw, { schemaKey: 'Software', name: 'x', version: '1', identifier: 'RRID:SCR_1' })).toEqual([]);
    expect(validate(sw, { schemaKey: 'Software', name: 'x', version: '1', identifier: 'SCR_1' })[0].path).toBe('identifier');
  });
  it('checks dandischema\'s contributor rules as the server does', () => {
    expect(dandisetRules(good())).toEqual([]);
    const md = good();
    md.contributor[0].name = 'Augusta Ada Lovelace';
    delete md.contributor[0].email;
    expect(dandisetRules(md).map((e) => e.path)).toEqual(['contributor[0].name', 'contributor[0].email']);
    md.contributor[0].roleName = ['dcite:Author'];
    md.contributor[0].name = 'Ñúñez, José-María';
    expect(dandisetRules(md)).toEqual([{ path: 'contributor', message: 'at least one contributor must have the role Contact Person' }]);
  });
  it('unwraps allOf and nullable anyOf', () => {
    expect(normSchema({ allOf: [{ type: 'string', enum: ['a'] }], title: 'T' })).toEqual({ type: 'string', enum: ['a'], title: 'T' });
    expect(normSchema({ anyOf: [{ type: 'integer' }, { type: 'null' }], default: null })).toEqual({ type: 'integer', default: null });
  });
  it('offers licenses from the schema, else from the server info', () => {
    expect(licenseChoices(schema, null)).toEqual(['spdx:CC0-1.0', 'spdx:CC-BY-4.0']);
    expect(licenseChoices(null, { instance_config: { licenses: ['spdx:X'] } })).toEqual(['spdx:X']);
    expect(fieldKind({ type: 'object' })).toBe(null);
  });
});
