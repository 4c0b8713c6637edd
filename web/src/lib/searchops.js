// The search operators of the dandiset search box (the server parses them:
// GET /api/dandisets/?search=, src/lib/searchq.c): the list the box offers
// and its help shows, and the pure steps of the suggestion list.
export const SEARCH_OPERATORS = [
  { key: 'created_after', example: '2024-01-01', description: 'Created on or after a date' },
  { key: 'created_before', example: '2024-01-01', description: 'Created before a date' },
  { key: 'modified_after', example: '2024-01-01', description: 'Last modified on or after a date' },
  { key: 'modified_before', example: '2024-01-01', description: 'Last modified before a date' },
  { key: 'published_after', example: '2024-01-01', description: 'Latest publication on or after a date' },
  { key: 'published_before', example: '2024-01-01', description: 'Latest publication before a date' },
  { key: 'species', example: 'mouse', description: 'Has assets of a species' },
  { key: 'approach', example: 'electrophysiology', description: 'Has assets of an approach' },
  { key: 'technique', example: '"patch clamp"', description: 'Has assets of a measurement technique' },
  { key: 'file_type', example: 'nwb', description: 'Has files of a type (nwb, image, text, video or a MIME type)' },
  { key: 'owner', example: '"Jane Doe"', description: 'Owned by a user (name, username or e-mail)' },
];

// The word being typed: from the last whitespace before the caret up to it.
export function tokenBeforeCaret(text, caret) {
  const before = text.slice(0, Math.max(0, Math.min(caret, text.length)));
  const m = /\S*$/.exec(before);
  return { start: before.length - m[0].length, token: m[0] };
}

// The operators offered for a word: all for none, none once it holds a
// colon (a value is being typed), else those whose key contains it.
export function operatorSuggestions(token) {
  if (token.includes(':')) return [];
  const t = token.toLowerCase();
  return SEARCH_OPERATORS.filter((op) => op.key.includes(t));
}

// The text with the word before the caret replaced by "key:" and the
// caret just after the colon; the text after the caret is kept.
export function insertOperator(text, caret, key) {
  const { start } = tokenBeforeCaret(text, caret);
  const insert = `${key}:`;
  return { text: text.slice(0, start) + insert + text.slice(caret), caret: start + insert.length };
}

// The message of a 400 the list answers for a search it cannot read:
// {"search": "message"}, or a list of messages (a blank search). '' when
// the body is not about the search.
export function searchError(body) {
  const m = body && typeof body === 'object' ? body.search : undefined;
  if (Array.isArray(m)) return m.filter((x) => typeof x === 'string').join(' ');
  return typeof m === 'string' ? m : '';
}
