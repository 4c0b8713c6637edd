import { describe, it, expect } from 'vitest';
import { CITATION_FORMATS, citedAuthors, formatCitation } from '../src/lib/cite.js';

const md = {
  id: 'DANDI:000123/0.240101.1200',
  name: 'Spikes in mouse V1',
  version: '0.240101.1200',
  datePublished: '2024-01-01T12:00:00.000000+00:00',
  doi: '10.80507/dandi.000123/0.240101.1200',
  url: 'https://archive.example.org/dandiset/000123/0.240101.1200',
  citation: 'Doe, Jane; Smith, John Paul (2024) Spikes in mouse V1 (Version 0.240101.1200) [Data set]. DANDI Archive. https://doi.org/10.80507/dandi.000123/0.240101.1200',
  license: ['spdx:CC-BY-4.0'],
  keywords: ['V1', 'ephys: "spikes"'],
  contributor: [
    { schemaKey: 'Person', name: 'Doe, Jane', identifier: '0000-0002-1825-0097', includeInCitation: true },
    { schemaKey: 'Person', name: 'Smith, John Paul', includeInCitation: true },
    { schemaKey: 'Organization', name: 'Lab of {Brains} & Co', includeInCitation: true },
    { schemaKey: 'Organization', name: 'Funder Inc', includeInCitation: false },
  ],
};

describe('citation formats', () => {
  it('lists nine formats with APA 7th first', () => {
    expect(CITATION_FORMATS.map(([, l]) => l)).toEqual(['APA 7th', 'MLA 9th', 'Chicago', 'Harvard', 'Vancouver', 'IEEE', 'BibTeX', 'RIS', 'CFF (YAML)']);
  });
  it('cites only contributors in the citation, persons split into family and given names', () => {
    expect(citedAuthors(md)).toEqual([
      { name: 'Doe, Jane', family: 'Doe', given: 'Jane', orcid: '0000-0002-1825-0097' },
      { name: 'Smith, John Paul', family: 'Smith', given: 'John Paul', orcid: '' },
      { name: 'Lab of {Brains} & Co', family: '', given: '', orcid: '' },
    ]);
  });
  it('APA is the server citation, and nothing is made up without one', () => {
    expect(formatCitation(md, 'apa')).toBe(md.citation);
    expect(formatCitation({ ...md, citation: undefined }, 'bibtex')).toBe('');
  });
  it('writes the prose styles with the DOI link and this instance as publisher', () => {
    const ctx = { instance: 'EMBER' };
    expect(formatCitation(md, 'mla', ctx)).toBe('Doe, Jane, et al. Spikes in mouse V1. Version 0.240101.1200, EMBER Archive, 2024, https://doi.org/10.80507/dandi.000123/0.240101.1200.');
    expect(formatCitation(md, 'chicago', ctx)).toBe('Doe, Jane, John Paul Smith, and Lab of {Brains} & Co. 2024. “Spikes in mouse V1.” EMBER Archive. Version 0.240101.1200. https://doi.org/10.80507/dandi.000123/0.240101.1200.');
    expect(formatCitation(md, 'harvard', ctx)).toBe('Doe, J., Smith, J. P. and Lab of {Brains} & Co (2024) Spikes in mouse V1 (Version 0.240101.1200) [Data set]. EMBER Archive. Available at: https://doi.org/10.80507/dandi.000123/0.240101.1200.');
    expect(formatCitation(md, 'vancouver', ctx)).toBe('Doe J, Smith JP, Lab of {Brains} & Co. Spikes in mouse V1 [dataset]. Version 0.240101.1200. EMBER Archive; 2024. Available from: https://doi.org/10.80507/dandi.000123/0.240101.1200');
    expect(formatCitation(md, 'ieee', ctx)).toBe('J. Doe, J. P. Smith, and Lab of {Brains} & Co, “Spikes in mouse V1,” EMBER Archive, Version 0.240101.1200, 2024. [Online]. Available: https://doi.org/10.80507/dandi.000123/0.240101.1200');
  });
  it('MLA names one and two authors in full', () => {
    const one = { ...md, contributor: [md.contributor[0]] };
    expect(formatCitation(one, 'mla')).toMatch(/^Doe, Jane\. Spikes/);
    const two = { ...md, contributor: md.contributor.slice(0, 2) };
    expect(formatCitation(two, 'mla')).toMatch(/^Doe, Jane, and John Paul Smith\. Spikes/);
  });
  it('links a draft to its page when there is no DOI', () => {
    const draft = { ...md, doi: undefined, url: undefined, version: 'draft', datePublished: undefined, dateCreated: '2023-05-06T00:00:00Z' };
    expect(formatCitation(draft, 'ieee', { webUrl: 'http://127.0.0.1:8080/dandiset/000123/draft' })).toMatch(/DANDI Archive, Version draft, 2023\. \[Online\]\. Available: http:\/\/127\.0\.0\.1:8080\/dandiset\/000123\/draft$/);
  });
  it('escapes BibTeX and keeps organizations as one name', () => {
    const b = formatCitation(md, 'bibtex');
    expect(b.split('\n')[0]).toBe('@misc{dandi_000123_0.240101.1200,');
    expect(b).toContain('  author = {Doe, Jane and Smith, John Paul and {Lab of \\{Brains\\} \\& Co}},');
    expect(b).toContain('  doi = {10.80507/dandi.000123/0.240101.1200},');
    expect(b.endsWith('\n}')).toBe(true);
  });
  it('writes RIS records as TY ... ER with one AU per author', () => {
    const r = formatCitation(md, 'ris').split('\n');
    expect(r[0]).toBe('TY  - DATA');
    expect(r.filter((l) => l.startsWith('AU  - '))).toHaveLength(3);
    expect(r).toContain('DO  - 10.80507/dandi.000123/0.240101.1200');
    expect(r).toContain('DA  - 2024/01/01');
    expect(r[r.length - 1]).toBe('ER  -');
  });
  it('writes CFF with quoted strings and ORCID links', () => {
    const c = formatCitation(md, 'cff');
    expect(c).toContain('cff-version: 1.2.0\n');
    expect(c).toContain('  - family-names: "Doe"\n    given-names: "Jane"\n    orcid: "https://orcid.org/0000-0002-1825-0097"\n');
    expect(c).toContain('  - name: "Lab of {Brains} & Co"\n');
    expect(c).toContain('license: "CC-BY-4.0"\n');
    expect(c).toContain('  - "ephys: \\"spikes\\""\n');
    expect(c).toContain('date-released: "2024-01-01"\n');
  });
});
