// Citation formats for the "How to Cite" tab, built in the browser from a
// version's metadata. APA is the server's own `citation` string; the others
// follow each style's rules for a data set. Unlike the original, links
// point at this archive (the DOI, else the version's url), never at a
// hard-coded dandiarchive.org.

export const CITATION_FORMATS = [
  ['apa', 'APA 7th'],
  ['mla', 'MLA 9th'],
  ['chicago', 'Chicago'],
  ['harvard', 'Harvard'],
  ['vancouver', 'Vancouver'],
  ['ieee', 'IEEE'],
  ['bibtex', 'BibTeX'],
  ['ris', 'RIS'],
  ['cff', 'CFF (YAML)'],
];

// Cited contributors as { family, given, name, orcid }: persons named
// "Last, First" are split; organizations keep their whole name.
export function citedAuthors(md) {
  return (md.contributor || [])
    .filter((c) => c && c.name && c.includeInCitation !== false)
    .map((c) => {
      const a = { name: String(c.name).trim(), family: '', given: '', orcid: '' };
      if (c.schemaKey !== 'Organization') {
        const m = /^([^,]+),\s*(.+)$/.exec(a.name);
        if (m) { a.family = m[1].trim(); a.given = m[2].trim(); }
        else a.family = a.name;
        if (c.identifier && /^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$/.test(c.identifier)) a.orcid = c.identifier;
      }
      return a;
    });
}

const initials = (given, sep = '.') => given.split(/[\s-]+/).filter(Boolean).map((p) => p[0].toUpperCase() + sep).join(sep === '' ? '' : ' ');
const isPerson = (a) => a.given !== '';
// "First Last" for a person, the whole name for an organization.
const natural = (a) => (isPerson(a) ? `${a.given} ${a.family}` : a.name);
const inverted = (a) => (isPerson(a) ? `${a.family}, ${a.given}` : a.name);

function joinList(items, last = 'and', serial = true) {
  if (items.length <= 1) return items.join('');
  if (items.length === 2) return `${items[0]} ${last} ${items[1]}`;
  return `${items.slice(0, -1).join(', ')}${serial ? ',' : ''} ${last} ${items[items.length - 1]}`;
}

// The facts every style needs, from the metadata and the page's context
// ({ instance: 'DANDI', webUrl: fallback link }).
export function citationFacts(md, ctx = {}) {
  const date = md.datePublished || md.dateCreated || '';
  const year = /^\d{4}/.test(date) ? date.slice(0, 4) : String(new Date().getFullYear());
  const doi = md.doi || '';
  return {
    authors: citedAuthors(md),
    title: md.name || '',
    version: md.version || 'draft',
    year,
    date: date.slice(0, 10),
    doi,
    url: doi ? `https://doi.org/${doi}` : (md.url || ctx.webUrl || ''),
    publisher: `${ctx.instance || 'DANDI'} Archive`,
    id: md.id || md.identifier || '',
    license: (md.license || [])[0] || '',
    description: md.description || '',
    keywords: md.keywords || [],
  };
}

const endDot = (s) => (/[.?!]$/.test(s) ? s : `${s}.`);
const bibEscape = (s) => String(s).replace(/([{}%&#_$])/g, '\\$1');
// CFF is YAML; double-quoted JSON strings are valid YAML scalars.
const yq = (s) => JSON.stringify(String(s));

function mla(f) {
  const a = f.authors;
  let who = '';
  if (a.length === 1) who = inverted(a[0]);
  else if (a.length === 2) who = `${inverted(a[0])}, and ${natural(a[1])}`;
  else if (a.length > 2) who = `${inverted(a[0])}, et al`;
  return `${who ? `${endDot(who)} ` : ''}${endDot(f.title)} Version ${f.version}, ${f.publisher}, ${f.year}, ${f.url}.`;
}

function chicago(f) {
  const names = f.authors.map((x, i) => (i === 0 ? inverted(x) : natural(x)));
  const who = names.length > 10 ? `${names.slice(0, 7).join(', ')}, et al` : joinList(names);
  return `${who ? `${endDot(who)} ` : ''}${f.year}. “${endDot(f.title)}” ${f.publisher}. Version ${f.version}. ${f.url}.`;
}

function harvard(f) {
  const names = f.authors.map((x) => (isPerson(x) ? `${x.family}, ${initials(x.given)}` : x.name));
  const who = joinList(names, 'and', false);
  return `${who ? `${who} ` : ''}(${f.year}) ${f.title} (Version ${f.version}) [Data set]. ${f.publisher}. Available at: ${f.url}.`;
}

function vancouver(f) {
  const names = f.authors.map((x) => (isPerson(x) ? `${x.family} ${initials(x.given, '')}` : x.name));
  const who = names.length > 6 ? `${names.slice(0, 6).join(', ')}, et al` : names.join(', ');
  return `${who ? `${endDot(who)} ` : ''}${f.title} [dataset]. Version ${f.version}. ${f.publisher}; ${f.year}. Available from: ${f.url}`;
}

function ieee(f) {
  const names = f.authors.map((x) => (isPerson(x) ? `${initials(x.given)} ${x.family}` : x.name));
  const who = names.length > 6 ? `${names[0]} et al.` : joinList(names);
  return `${who ? `${who}, ` : ''}“${f.title},” ${f.publisher}, Version ${f.version}, ${f.year}. [Online]. Available: ${f.url}`;
}

function bibtex(f) {
  const key = `${f.publisher.split(' ')[0].toLowerCase()}_${(f.id.split(':')[1] || f.id).replace(/[^\w.]/g, '_')}`.replace(/_+$/, '');
  const fields = [
    ['author', f.authors.map((x) => (isPerson(x) ? `${bibEscape(x.family)}, ${bibEscape(x.given)}` : `{${bibEscape(x.name)}}`)).join(' and ')],
    ['title', `{${bibEscape(f.title)}}`],
    ['year', f.year],
    ['publisher', bibEscape(f.publisher)],
    ['version', bibEscape(f.version)],
    ['doi', f.doi],
    ['url', f.url],
  ].filter(([, v]) => v);
  return `@misc{${key || 'dandiset'},\n${fields.map(([k, v]) => `  ${k} = {${v}}`).join(',\n')}\n}`;
}

function ris(f) {
  const lines = [['TY', 'DATA']];
  for (const x of f.authors) lines.push(['AU', inverted(x)]);
  lines.push(['TI', f.title], ['PY', f.year], ['PB', f.publisher], ['ET', f.version]);
  if (f.date) lines.push(['DA', f.date.replace(/-/g, '/')]);
  if (f.doi) lines.push(['DO', f.doi]);
  lines.push(['UR', f.url]);
  for (const k of f.keywords) lines.push(['KW', k]);
  lines.push(['ER', '']);
  return lines.map(([k, v]) => `${k}  - ${v}`.trimEnd()).join('\n');
}

function cff(f) {
  const out = ['cff-version: 1.2.0', 'message: "If you use this dataset, please cite it as below."', 'type: dataset', `title: ${yq(f.title)}`, 'authors:'];
  if (!f.authors.length) out.push('  - name: "anonymous"');
  for (const x of f.authors) {
    if (isPerson(x)) {
      out.push(`  - family-names: ${yq(x.family)}`, `    given-names: ${yq(x.given)}`);
      if (x.orcid) out.push(`    orcid: ${yq(`https://orcid.org/${x.orcid}`)}`);
    } else out.push(`  - name: ${yq(x.name)}`);
  }
  out.push(`version: ${yq(f.version)}`);
  if (f.doi) out.push(`doi: ${yq(f.doi)}`);
  if (f.date) out.push(`date-released: ${yq(f.date)}`);
  out.push(`url: ${yq(f.url)}`);
  if (f.license.startsWith('spdx:')) out.push(`license: ${yq(f.license.slice(5))}`);
  if (f.keywords.length) { out.push('keywords:'); for (const k of f.keywords) out.push(`  - ${yq(k)}`); }
  return `${out.join('\n')}\n`;
}

// The citation of `md` in `format` (a key of CITATION_FORMATS). Without a
// server citation there is nothing to format: '' is returned.
export function formatCitation(md, format, ctx = {}) {
  if (!md || !md.citation) return '';
  if (format === 'apa' || !format) return md.citation;
  const f = citationFacts(md, ctx);
  switch (format) {
    case 'mla': return mla(f);
    case 'chicago': return chicago(f);
    case 'harvard': return harvard(f);
    case 'vancouver': return vancouver(f);
    case 'ieee': return ieee(f);
    case 'bibtex': return bibtex(f);
    case 'ris': return ris(f);
    case 'cff': return cff(f);
    default: return md.citation;
  }
}
