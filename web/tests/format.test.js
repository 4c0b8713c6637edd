import { describe, it, expect } from 'vitest';
import { formatSize, formatDate, initials, truncateWords, basename, plural } from '../src/lib/format.js';

describe('format', () => {
  it('formats sizes in SI units with one decimal', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(1000)).toBe('1.0 kB');
    expect(formatSize(1536)).toBe('1.5 kB');
    expect(formatSize(2.5e9)).toBe('2.5 GB');
    expect(formatSize(-1)).toBe('—');
    expect(formatSize('x')).toBe('—');
  });
  it('formats dates like "January 2, 2026"', () => {
    expect(formatDate('2026-01-02T12:00:00Z')).toBe('January 2, 2026');
    expect(formatDate('')).toBe('');
  });
  it('makes initials from the first and last words', () => {
    expect(initials('Archive Admin')).toBe('AA');
    expect(initials('Jane van Doe')).toBe('JD');
    expect(initials('plato')).toBe('P');
    expect(initials('')).toBe('??');
    expect(initials(null)).toBe('??');
  });
  it('cuts text at a word boundary', () => {
    expect(truncateWords('short', 10)).toBe('short');
    expect(truncateWords('the quick brown fox jumps', 12)).toBe('the quick…');
  });
  it('names the last path segment and pluralises', () => {
    expect(basename('a/b/c.nwb')).toBe('c.nwb');
    expect(basename('a/b/')).toBe('b');
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(2, 'file')).toBe('2 files');
  });
});
