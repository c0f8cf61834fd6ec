// The shipped pair's word-level tokenizer: its vocabulary as the page lists it, and the words of
// custom labels it would read as [UNK] (named as typed, so the warning quotes the user).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { readTokenizer, unknownWords, vocabulary } from '../../../../src/core/text/head';

const shipped = JSON.parse(readFileSync('public/pairs/shapes/tokenizer.json', 'utf8')) as { model: { vocab: Record<string, number> } };
const tokenizer = readTokenizer(shipped);

describe("the shipped tokenizer's vocabulary", () => {
  it('lists every word of the vocabulary, sorted, without the special tokens', () => {
    const words = vocabulary(tokenizer)!;
    expect(words).toContain('pentagram');
    expect(words).toContain('star');
    expect(words).not.toContain('[UNK]');
    expect(words).not.toContain('[PAD]');
    expect(words).toEqual([...words].sort());
    // Everything but the four special tokens, which no label can spell.
    expect(words.length).toBe(Object.keys(shipped.model.vocab).length - 4);
    expect(unknownWords(tokenizer, words)).toEqual([]);
  });

  it('names the words of labels it does not know, as typed, once each; case is normalised as the tokenizer does', () => {
    expect(unknownWords(tokenizer, ['star', 'Red Heart', 'moon'])).toEqual([]);
    expect(unknownWords(tokenizer, ['star', 'Zebra', 'red zebra', 'dodecagon-ish'])).toEqual(['Zebra', 'zebra', 'dodecagon', '-', 'ish']);
  });
});
