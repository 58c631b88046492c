/**
 * Splits the arguments after the subcommand into flag values: `--flag value` and `--flag=value`. Every
 * Parsec flag takes a value, which keeps the grammar unambiguous. Values are returned as text; the option's
 * type reads them, exactly as it reads environment variables.
 */
import { CONFIG_FLAG, OPTIONS, OPTION_NAMES, type OptionName } from './options.ts';
import { didYouMean } from './suggest.ts';

export interface FlagValues {
  readonly values: ReadonlyMap<OptionName, string>;
  readonly configFile: string | undefined;
  readonly problems: readonly string[];
}

const FLAG_TO_OPTION: ReadonlyMap<string, OptionName> = new Map(
  OPTION_NAMES.flatMap((name): [string, OptionName][] => {
    const flag = OPTIONS[name].flag;
    return flag === undefined ? [] : [[flag, name]];
  }),
);

export const KNOWN_FLAGS: readonly string[] = [...FLAG_TO_OPTION.keys(), CONFIG_FLAG];

export function parseFlags(argv: readonly string[]): FlagValues {
  const values = new Map<OptionName, string>();
  const seen = new Set<string>();
  const problems: string[] = [];
  let configFile: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (!token.startsWith('--') || token === '--') {
      // Not echoed: a stray argument is often a key whose flag name was forgotten.
      problems.push(`unexpected argument #${i + 1}: options are given as --name value or --name=value`);
      continue;
    }
    const eq = token.indexOf('=');
    const flag = eq === -1 ? token : token.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : token.slice(eq + 1);
    if (value === undefined) {
      const next = argv[i + 1];
      // Every flag takes a value, so the next token belongs to this flag unless it is itself a flag.
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      }
    }

    const known = flag === CONFIG_FLAG || FLAG_TO_OPTION.has(flag);
    if (!known) {
      problems.push(`unknown flag ${flag}.${didYouMean(flag, KNOWN_FLAGS)}`.replace(/\.$/, ''));
      continue;
    }
    if (value === undefined) {
      problems.push(`flag ${flag} needs a value (write ${flag}=VALUE if the value starts with --)`);
      continue;
    }
    if (seen.has(flag)) {
      problems.push(`flag ${flag} is given more than once`);
      continue;
    }
    seen.add(flag);
    const option = FLAG_TO_OPTION.get(flag);
    if (option === undefined) configFile = value;
    else values.set(option, value);
  }
  return { values, configFile, problems };
}
