/**
 * Reads each configuration source (config file, environment, flags) into typed option values. Every value in
 * every layer is type-checked, even one a later layer overrides: a broken line in a config file is reported,
 * not hidden by an environment variable that happens to be set today.
 */
import { OPTIONS, OPTION_NAMES, CONFIG_ENV, type OptionName, type OptionValues } from './options.ts';
import { UNSUPPORTED_OPTIONS, classifyUnsupported } from './unsupported.ts';
import { PARSE_LIVE_QUERY_SERVER_KEYS, foldLiveQueryServer } from './live-query-server-option.ts';
import { didYouMean } from './suggest.ts';
import type { Parsed } from './value-types.ts';

export interface Layer {
  readonly values: Partial<OptionValues>;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

/** Typed assignment: keeps each option's value type tied to its name. */
function assign<K extends OptionName>(target: Partial<OptionValues>, name: K, value: OptionValues[K]): void {
  target[name] = value;
}

function readText<K extends OptionName>(name: K, text: string): Parsed<OptionValues[K]> {
  return OPTIONS[name].type.fromText(text);
}

/** From a config file a string is read like text, as parse-server's CLI does ("port": "1337" works). */
function readJson<K extends OptionName>(name: K, value: unknown): Parsed<OptionValues[K]> {
  return typeof value === 'string' ? OPTIONS[name].type.fromText(value) : OPTIONS[name].type.fromJson(value);
}

/** The fixed defaults; options without one (keys, cloud, serverURL) stay unset. */
export function defaultLayer(): Layer {
  const values: Partial<OptionValues> = {};
  for (const name of OPTION_NAMES) setDefault(values, name);
  return { values, problems: [], warnings: [] };
}

function setDefault<K extends OptionName>(values: Partial<OptionValues>, name: K): void {
  const value = OPTIONS[name].default;
  if (value !== undefined) assign(values, name, value);
}

/** Config-file names: Parsec's options and their Parse aliases. */
const FILE_NAMES: ReadonlyMap<string, OptionName> = new Map(
  OPTION_NAMES.flatMap((name): [string, OptionName][] => [
    [name, name],
    ...(OPTIONS[name].aliases ?? []).map((alias): [string, OptionName] => [alias, name]),
  ]),
);

const ALL_FILE_NAMES: readonly string[] = [...FILE_NAMES.keys(), ...PARSE_LIVE_QUERY_SERVER_KEYS, ...UNSUPPORTED_OPTIONS.keys()];

export function fileLayer(path: string, fileEntries: ReadonlyMap<string, unknown>): Layer {
  const values: Partial<OptionValues> = {};
  // Parse's separate LiveQuery server options are another spelling of liveQuery's port: read as that.
  const { entries, problems: foldProblems, warnings: foldWarnings } = foldLiveQueryServer(fileEntries, path);
  const problems: string[] = [...foldProblems];
  const warnings: string[] = [...foldWarnings];
  const setBy = new Map<OptionName, string>();

  for (const [key, raw] of entries) {
    const name = FILE_NAMES.get(key);
    if (name !== undefined) {
      const earlier = setBy.get(name);
      if (earlier !== undefined) {
        problems.push(`${path}: ${key} and ${earlier} set the same option; keep one`);
        continue;
      }
      setBy.set(name, key);
      // null means "not set here", as parse-server treats it, except where Parse reads null as "off".
      if (raw === null && OPTIONS[name].nullIsValue !== true) continue;
      fileValue(values, name, key, raw, path, problems);
      continue;
    }
    const unsupported = UNSUPPORTED_OPTIONS.get(key);
    if (unsupported !== undefined) {
      const { severity, message } = classifyUnsupported(key, unsupported, raw);
      (severity === 'error' ? problems : warnings).push(`${path}: ${message}`);
      continue;
    }
    problems.push(`${path}: ${key} is not a known option.${didYouMean(key, ALL_FILE_NAMES)}`);
  }
  return { values, problems, warnings };
}

function fileValue<K extends OptionName>(values: Partial<OptionValues>, name: K, key: string, raw: unknown, path: string, problems: string[]): void {
  const parsed = readJson(name, raw);
  if (parsed.ok) assign(values, name, parsed.value);
  else problems.push(`${path}: ${key} ${parsed.reason}`);
}

const ENV_TO_OPTION: ReadonlyMap<string, OptionName> = new Map(OPTION_NAMES.map((name): [string, OptionName] => [OPTIONS[name].env, name]));
const KNOWN_ENV: readonly string[] = [...ENV_TO_OPTION.keys(), CONFIG_ENV];

export function envLayer(env: Readonly<Record<string, string | undefined>>): Layer {
  const values: Partial<OptionValues> = {};
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [variable, text] of Object.entries(env)) {
    if (text === undefined) continue;
    const name = ENV_TO_OPTION.get(variable);
    if (name !== undefined) {
      textValue(values, name, text, `environment variable ${variable}`, problems);
    } else if (variable.startsWith('PARSEC_') && variable !== CONFIG_ENV && !variable.startsWith('PARSEC_TEST_')) {
      // A warning, not an error: other tools (deploy scripts) may share the prefix. PARSEC_TEST_* belongs to
      // the test suite (e.g. PARSEC_TEST_DATABASE_URL) and is not mentioned at all.
      warnings.push(`environment variable ${variable} is not a Parsec setting and is ignored.${didYouMean(variable, KNOWN_ENV)}`);
    }
  }
  warnings.push(...foreignEnvWarnings(env));
  return { values, problems, warnings };
}

/** Variables a parse-server deployment sets, which Parsec deliberately does not read. */
function foreignEnvWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const warnings: string[] = [];
  const parseVars = Object.keys(env).filter((v) => v.startsWith('PARSE_SERVER_') && env[v] !== undefined);
  if (parseVars.length > 0) {
    warnings.push(`parse-server environment variables are not read by Parsec (${parseVars.sort().join(', ')}); use the PARSEC_* names (see parsec help)`);
  }
  // Hosting platforms announce the port to listen on in PORT; Parsec only follows it when told to.
  if (env['PORT'] !== undefined && env[OPTIONS.port.env] === undefined) {
    warnings.push(`PORT is set but Parsec reads ${OPTIONS.port.env} (or --port); if the platform expects PORT, set ${OPTIONS.port.env}=$PORT`);
  }
  return warnings;
}

export function flagLayer(flags: ReadonlyMap<OptionName, string>): Layer {
  const values: Partial<OptionValues> = {};
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [name, text] of flags) textValue(values, name, text, `flag ${OPTIONS[name].flag ?? name}`, problems);
  if (flags.has('masterKey')) {
    warnings.push(`--master-key is visible to other users of this machine (ps, shell history); prefer ${OPTIONS.masterKey.env} or a config file`);
  }
  return { values, problems, warnings };
}

function textValue<K extends OptionName>(values: Partial<OptionValues>, name: K, text: string, where: string, problems: string[]): void {
  const parsed = readText(name, text);
  if (parsed.ok) assign(values, name, parsed.value);
  else problems.push(`${where} ${parsed.reason}`);
}
