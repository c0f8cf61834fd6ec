import { describe, expect, it } from 'vitest';
import { readArgs } from '../../bench/args';

const USAGE = 'npx tsx bench/x.ts [--alpha A] [--member ID]';
const DEFAULTS = { alpha: 0.5, member: 'e2e-seed0', images: null as string | null };

describe('bench scripts read their command line strictly', () => {
  it('keeps the defaults and reads numbers and strings, in both spellings', () => {
    expect(readArgs(USAGE, DEFAULTS, [])).toEqual({ values: DEFAULTS });
    expect(readArgs(USAGE, DEFAULTS, ['--alpha', '0.7', '--member=e2e-seed1'])).toEqual({
      values: { alpha: 0.7, member: 'e2e-seed1', images: null },
    });
  });

  it('stops on a value that is not a number instead of running on NaN', () => {
    for (const bad of ['x', '', ' ', 'Infinity']) {
      const r = readArgs(USAGE, DEFAULTS, ['--alpha', bad]);
      expect(r).toMatchObject({ exit: 2 });
      expect('message' in r && r.message).toContain(`--alpha takes a number, got "${bad}"`);
    }
  });

  it('stops on an unknown or misspelt option, with the usage', () => {
    const r = readArgs(USAGE, DEFAULTS, ['--aplha', '0.7']);
    expect(r).toMatchObject({ exit: 2 });
    expect('message' in r && r.message).toContain('--aplha');
    expect('message' in r && r.message).toContain(USAGE);
  });

  it('prints the usage on --help and stops cleanly', () => {
    expect(readArgs(USAGE, DEFAULTS, ['--help'])).toEqual({ exit: 0, message: USAGE });
  });
});
