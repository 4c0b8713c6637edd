import { describe, it, expect } from 'vitest';
import { SEARCH_OPERATORS, tokenBeforeCaret, operatorSuggestions, insertOperator, searchError } from '../src/lib/searchops.js';

const keys = (list) => list.map((op) => op.key);

describe('search operators', () => {
  it('lists the eleven operators the server reads', () => {
    expect(keys(SEARCH_OPERATORS)).toEqual(['created_after', 'created_before', 'modified_after', 'modified_before',
      'published_after', 'published_before', 'species', 'approach', 'technique', 'file_type', 'owner']);
  });
  it('takes the word before the caret', () => {
    expect(tokenBeforeCaret('neuropixels appr', 16)).toEqual({ start: 12, token: 'appr' });
    expect(tokenBeforeCaret('neuropixels appr', 13)).toEqual({ start: 12, token: 'a' });
    expect(tokenBeforeCaret('mouse ', 6)).toEqual({ start: 6, token: '' });
    expect(tokenBeforeCaret('', 0)).toEqual({ start: 0, token: '' });
    expect(tokenBeforeCaret('a\tspe', 99)).toEqual({ start: 2, token: 'spe' });
  });
  it('offers the operators whose key holds the word, none after a colon', () => {
    expect(operatorSuggestions('')).toHaveLength(11);
    expect(keys(operatorSuggestions('spe'))).toEqual(['species']);
    expect(keys(operatorSuggestions('FILE'))).toEqual(['file_type']);
    expect(keys(operatorSuggestions('_after'))).toEqual(['created_after', 'modified_after', 'published_after']);
    expect(operatorSuggestions('species:')).toEqual([]);
    expect(operatorSuggestions('zzz')).toEqual([]);
  });
  it('inserts "key:" for the word before the caret and keeps the rest', () => {
    expect(insertOperator('spe', 3, 'species')).toEqual({ text: 'species:', caret: 8 });
    expect(insertOperator('neuropixels appr', 16, 'approach')).toEqual({ text: 'neuropixels approach:', caret: 21 });
    expect(insertOperator('a fi b', 4, 'file_type')).toEqual({ text: 'a file_type: b', caret: 12 });
    expect(insertOperator('', 0, 'owner')).toEqual({ text: 'owner:', caret: 6 });
  });
  it("reads the server's message for a bad search", () => {
    expect(searchError({ search: 'Unknown search operator "foo".' })).toBe('Unknown search operator "foo".');
    expect(searchError({ search: ['This field may not be blank.'] })).toBe('This field may not be blank.');
    expect(searchError({ draft: ['Must be a valid boolean.'] })).toBe('');
    expect(searchError('Not found')).toBe('');
    expect(searchError(null)).toBe('');
  });
});
