// The small bench scripts' command lines (calibration, flips, layers), read by Node's own
// util.parseArgs: an unknown option or a value that is not a number stops the script with a
// message and the usage, instead of running on NaN or ignoring a misspelt flag.
import { parseArgs } from 'node:util';

type Defaults = Record<string, number | string | null>;

/** What a command line asks for: the options' values, or to stop (0 after --help, 2 on bad input) printing `message`. */
export type ReadArgs<T> = { values: T } | { exit: 0 | 2; message: string };

/** `defaults` with the values given as `--name value` (or `--name=value`); a number's default makes it a number option. */
export function readArgs<T extends Defaults>(usage: string, defaults: T, argv: readonly string[]): ReadArgs<T> {
  const names = Object.keys(defaults);
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
    ({ values } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true }));
  } catch (e) {
    return { exit: 2, message: `${(e as Error).message}\n\n${usage}` };
  }
  if (values.help) return { exit: 0, message: usage };
  const out: Defaults = { ...defaults };
  for (const n of names) {
    const raw = values[n];
    if (typeof raw !== 'string') continue;
    const x = typeof defaults[n] === 'number' ? Number(raw) : raw;
    if (typeof x === 'number' && (raw.trim() === '' || !Number.isFinite(x)))
      return { exit: 2, message: `--${n} takes a number, got "${raw}"\n\n${usage}` };
    out[n] = x;
  }
  return { values: out as T };
}

/** readArgs on this process's command line; stops the process where it says to. */
export function scriptArgs<T extends Defaults>(usage: string, defaults: T): T {
  const r = readArgs(usage, defaults, process.argv.slice(2));
  if ('values' in r) return r.values;
  (r.exit === 0 ? console.log : console.error)(r.message);
  process.exit(r.exit);
}
