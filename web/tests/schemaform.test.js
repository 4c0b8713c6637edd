import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ref, computed, nextTick } from 'vue';
import { mount } from '@vue/test-utils';
import { derefSchema, validate, dandisetRules } from '../src/lib/schema.js';
import { formProperties, widgetOf, enumLabel, newItem, itemSummary, setIn, getIn, parsePath, moveItem, fieldId, errorsByPath, variantsOf } from '../src/lib/schemaform.js';
import SchemaField from '../src/components/SchemaField.vue';

const schema = derefSchema(JSON.parse(readFileSync(resolve(__dirname, '../../share/schema/0.7.0/dandiset.json'), 'utf8')));

describe('schemaform', () => {
  it('gives every editable property of the Dandiset a widget and hides the read-only ones', () => {
    const f = Object.fromEntries(formProperties(schema).map((p) => [p.name, p.widget]));
    expect(f).toMatchObject({ name: 'string', description: 'textarea', license: 'enum-array', keywords: 'string-array', protocol: 'string-array', studyTarget: 'string-array', acknowledgement: 'string', contributor: 'list', about: 'list', ethicsApproval: 'list', relatedResource: 'list', wasGeneratedBy: 'list' });
    for (const ro of ['id', 'identifier', 'citation', 'assetsSummary', 'access', 'schemaKey', 'version', 'url', 'dateCreated']) expect(f[ro]).toBeUndefined();
    expect(Object.values(f)).not.toContain('json');
  });
  it('builds person and organisation forms from the variants', () => {
    const [person, org] = variantsOf(schema.properties.contributor.items);
    const p = Object.fromEntries(formProperties(person).map((x) => [x.name, x]));
    expect(Object.keys(p)).toEqual(expect.arrayContaining(['name', 'email', 'identifier', 'url', 'roleName', 'includeInCitation', 'awardNumber', 'affiliation']));
    expect(p.name.title).toBe('Name (Last, First)');
    expect(p.identifier.title).toBe('ORCID');
    expect(p.roleName.widget).toBe('enum-array');
    expect(p.affiliation.widget).toBe('list');
    expect(p.includeInCitation.widget).toBe('boolean');
    expect(p.url.widget).toBe('string');
    expect(formProperties(org).find((x) => x.name === 'identifier').title).toBe('ROR identifier');
    expect(formProperties(org).find((x) => x.name === 'contactPoint').widget).toBe('list');
    expect(newItem(person)).toEqual({ schemaKey: 'Person', includeInCitation: true });
    expect(newItem(org)).toEqual({ schemaKey: 'Organization', includeInCitation: false });
    const ethics = variantsOf(schema.properties.ethicsApproval.items)[0];
    expect(formProperties(ethics).find((x) => x.name === 'contactPoint').widget).toBe('object');
  });
  it('labels enum values readably', () => {
    expect(enumLabel('dcite:ContactPerson')).toBe('Contact Person');
    expect(enumLabel('dcite:IsDescribedBy')).toBe('Is Described By');
    expect(enumLabel('spdx:CC-BY-4.0')).toBe('CC-BY-4.0');
    expect(enumLabel('https://example.org/x')).toBe('https://example.org/x');
  });
  it('updates a document by path without changing the original', () => {
    const doc = { a: [{ b: 1 }, { b: 2 }], c: 'x' };
    const d2 = setIn(doc, 'a[1].b', 3);
    expect(doc.a[1].b).toBe(2);
    expect(d2).toEqual({ a: [{ b: 1 }, { b: 3 }], c: 'x' });
    expect(d2.a[0]).toBe(doc.a[0]);
    expect(setIn(doc, 'c', undefined)).toEqual({ a: doc.a });
    expect(setIn({}, 'x[0].y', 'z')).toEqual({ x: [{ y: 'z' }] });
    expect(getIn(d2, 'a[1].b')).toBe(3);
    expect(parsePath('contributor[0].affiliation[12].name')).toEqual(['contributor', 0, 'affiliation', 12, 'name']);
    expect(fieldId('contributor[0].name')).toBe('mf-contributor-0-name');
    expect(moveItem([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
    expect(moveItem([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(itemSummary({ schemaKey: 'Person' }, 1)).toBe('Person 2 (new)');
    expect(errorsByPath([{ path: 'a', message: 'x' }, { path: 'a', message: 'y' }])).toEqual({ a: ['x', 'y'] });
  });
  it('widgets: unknown shapes fall back to JSON', () => {
    expect(widgetOf({ type: 'array', items: { type: 'array' } })).toBe('json');
    expect(widgetOf({ type: 'string', format: 'date' })).toBe('date');
  });
});

// The contributor list, mounted with the editor's provided state.
function mountList(initial, readOnly = false) {
  const model = ref(initial);
  const set = (p, v) => { model.value = setIn(model.value, p, v); };
  const errors = computed(() => errorsByPath([...validate(schema, model.value), ...dandisetRules(model.value)]));
  const field = formProperties(schema).find((f) => f.name === 'contributor');
  const w = mount(SchemaField, { props: { field, path: 'contributor' }, global: { provide: { meditor: { model, set, errors, readOnly: computed(() => readOnly) } } }, attachTo: document.body });
  return { w, model };
}

describe('SchemaField', () => {
  it('adds a person through the form, with roles, ORCID and an affiliation', async () => {
    const { w, model } = mountList({ schemaKey: 'Dandiset', contributor: [] });
    await w.get('#mf-contributor-add-0').trigger('click');
    expect(model.value.contributor).toEqual([{ schemaKey: 'Person', includeInCitation: true }]);
    await nextTick();
    expect(document.activeElement.id).toBe('mf-contributor-0-name');
    const name = w.get('#mf-contributor-0-name');
    expect(w.get('label[for="mf-contributor-0-name"]').text()).toMatch(/Name \(Last, First\)/);
    name.element.value = 'Lovelace, Ada';
    await name.trigger('input');
    const orcid = w.get('#mf-contributor-0-identifier');
    orcid.element.value = '12-34';
    await orcid.trigger('input');
    expect(w.get('#mf-contributor-0-identifier-err').text()).toMatch(/contributor\[0\]\.identifier: must match pattern/);
    expect(orcid.attributes('aria-describedby')).toContain('mf-contributor-0-identifier-err');
    orcid.element.value = '0000-0002-1825-0097';
    await orcid.trigger('input');
    expect(w.find('#mf-contributor-0-identifier-err').exists()).toBe(false);
    const contact = w.findAll('#mf-contributor-0-roleName input').find((i) => i.element.value === 'dcite:ContactPerson');
    expect(contact.element.parentElement.textContent.trim()).toBe('Contact Person');
    await contact.setValue(true);
    expect(w.get('#mf-contributor-0-email-err').text()).toMatch(/contact person must have an e-mail/);
    const email = w.get('#mf-contributor-0-email');
    email.element.value = 'ada@example.org';
    await email.trigger('input');
    await w.get('#mf-contributor-0-affiliation-add-0').trigger('click');
    const aff = w.get('#mf-contributor-0-affiliation-0-name');
    aff.element.value = 'Analytical Society';
    await aff.trigger('input');
    expect(model.value.contributor[0]).toEqual({ schemaKey: 'Person', includeInCitation: true, name: 'Lovelace, Ada', identifier: '0000-0002-1825-0097', roleName: ['dcite:ContactPerson'], email: 'ada@example.org', affiliation: [{ schemaKey: 'Affiliation', name: 'Analytical Society' }] });
    expect(w.findAll('.field-errors').length).toBe(0);
    w.unmount();
  });
  it('moves items up and down, keeps the focus on the moved item, and removes them', async () => {
    const { w, model } = mountList({ contributor: [{ schemaKey: 'Person', name: 'A, A' }, { schemaKey: 'Organization', name: 'B' }, { schemaKey: 'Person', name: 'C, C' }] });
    await w.get('#mf-contributor-2-up').trigger('click');
    expect(model.value.contributor.map((c) => c.name)).toEqual(['A, A', 'C, C', 'B']);
    await nextTick();
    expect(document.activeElement.id).toBe('mf-contributor-1-up');
    await w.get('#mf-contributor-1-up').trigger('click');
    await nextTick();
    expect(document.activeElement.id).toBe('mf-contributor-0-down');
    expect(w.get('#mf-contributor-0-up').attributes('disabled')).toBeDefined();
    await w.get('#mf-contributor-0-remove').trigger('click');
    expect(model.value.contributor.map((c) => c.name)).toEqual(['A, A', 'B']);
    expect(w.get('#mf-contributor-1-title').text()).toMatch(/Organization\s+B/);
    await w.get('#mf-contributor-0-toggle').trigger('click');
    expect(w.get('#mf-contributor-0-body').isVisible()).toBe(false);
    expect(w.get('#mf-contributor-0-toggle').attributes('aria-expanded')).toBe('false');
    w.unmount();
  });
  it('read-only: the values show, nothing can be added, moved or removed', () => {
    const { w } = mountList({ contributor: [{ schemaKey: 'Person', name: 'A, A', roleName: ['dcite:Author'] }] }, true);
    expect(w.get('#mf-contributor-0-name').element.value).toBe('A, A');
    expect(w.get('#mf-contributor-0-name').attributes('readonly')).toBeDefined();
    expect(w.findAll('#mf-contributor-0-roleName input:checked').length).toBe(1);
    expect(w.findAll('#mf-contributor-0-roleName input:not([disabled])').length).toBe(0);
    expect(w.findAll('button').map((b) => b.text())).toEqual(['Collapse']);
    w.unmount();
  });
});
