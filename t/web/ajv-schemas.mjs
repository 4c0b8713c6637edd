#!/usr/bin/env node
// t/web/ajv-schemas.mjs - compiles every JSON Schema a running archive serves
// (GET /api/info/'s schema_url, and /api/schemas/?model=M[&version=V] for
// every model /api/schemas/available/ lists) with Ajv's draft 2020-12 class,
// as the original DANDI web app does (ajv/dist/2020, unicode regular
// expressions: a pattern such as "^RRID\:.*" is refused there), twice:
//  - as the original app configures it: { allErrors, strict: false, verbose };
//  - in strict mode (strictSchema, strictNumbers, strictRequired), with the
//    annotation keywords dandischema adds (nskey, rangeIncludes, sameas,
//    pydantic's discriminator) and the formats it uses declared, so any
//    other unknown keyword or format fails.
// Ajv is @redocly/ajv (Ajv 8), already in web/node_modules (redoc's).
//
//   node t/web/ajv-schemas.mjs http://127.0.0.1:8080
//
// Prints TAP; exits 1 when a schema did not compile.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const req = createRequire(path.join(ROOT, 'web', 'package.json'));
const Ajv2020 = req('@redocly/ajv/dist/2020').default;

const ANNOTATIONS = ['nskey', 'rangeIncludes', 'sameas', 'discriminator'];
// JSON Schema's formats, and pydantic's "uuid4".
const FORMATS = ['date-time', 'date', 'time', 'duration', 'email', 'idn-email', 'hostname', 'idn-hostname',
  'ipv4', 'ipv6', 'uri', 'uri-reference', 'iri', 'iri-reference', 'uuid', 'uri-template', 'json-pointer',
  'relative-json-pointer', 'regex', 'uuid4'];

function originalAjv() {
  // logger: false: its warnings about the formats it ignores are noise here.
  return new Ajv2020({ allErrors: true, strict: false, verbose: true, logger: false });
}

function strictAjv(warnings) {
  const ajv = new Ajv2020({
    strict: true, strictTypes: 'log', strictTuples: 'log', strictRequired: true, unicodeRegExp: true,
    allErrors: true, logger: { log() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  for (const k of ANNOTATIONS) ajv.addKeyword(k);
  for (const f of FORMATS) ajv.addFormat(f, true);
  return ajv;
}

async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
  return r.json();
}

const base = (process.argv[2] || process.env.DANDI_URL || '').replace(/\/+$/, '');
if (!base) {
  console.log('1..0 # SKIP no archive URL');
  process.exit(0);
}
const results = [];
const info = await getJson(`${base}/api/info/`);
const models = await getJson(`${base}/api/schemas/available/`);
const urls = [info.schema_url];
for (const m of models) {
  urls.push(`${base}/api/schemas/?model=${encodeURIComponent(m)}`);
  urls.push(`${base}/api/schemas/?model=${encodeURIComponent(m)}&version=${encodeURIComponent(info.schema_version)}`);
}
for (const url of urls) {
  let schema;
  try {
    schema = await getJson(url);
  } catch (e) {
    results.push([false, `${url}: ${e.message}`]);
    continue;
  }
  const patterns = JSON.stringify(schema).match(/"pattern":"(?:[^"\\]|\\.)*"/g) || [];
  for (const [name, make] of [['as the original app', originalAjv], ['strict', strictAjv]]) {
    const warnings = [];
    try {
      const validate = make(warnings).compile(schema);
      // A compiled validator that checks something: an empty document fails.
      const ok = validate({}) === false && validate.errors.length > 0;
      results.push([ok, `${url} compiles with Ajv 2020 ${name} (${patterns.length} patterns)` +
        (ok ? '' : ': an empty document validated')]);
    } catch (e) {
      results.push([false, `${url} compiles with Ajv 2020 ${name}: ${e.message}`]);
    }
    for (const w of warnings) console.log(`# ${w}`);
  }
}
console.log(`1..${results.length}`);
results.forEach(([ok, what], i) => console.log(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${what}`));
process.exit(results.every(([ok]) => ok) ? 0 : 1);
