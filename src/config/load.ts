/**
 * Loads the configuration: defaults < config file (--config or PARSEC_CONFIG) < environment < flags, then
 * stored or generated credentials. Every problem is collected and returned together, so one run shows the
 * whole list to fix; nothing is written to disk unless the configuration is valid.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildConfig } from './build.ts';
import { readConfigFile } from './config-file.ts';
import { createCredentials, readCredentials, type Credentials } from './credentials.ts';
import { crossCheck } from './cross-check.ts';
import { resolveDatabaseURI } from './database-uri.ts';
import { parseFlags } from './flags.ts';
import { defaultLayer, envLayer, fileLayer, flagLayer, type Layer } from './layers.ts';
import { CONFIG_ENV, type OptionValues } from './options.ts';
import type { ParsecConfig } from './types.ts';

export interface LoadInput {
  /** Arguments after the subcommand, e.g. ['--port', '8080']. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths and for `.parsec/`. */
  readonly cwd: string;
}

export type LoadResult =
  | {
      ok: true;
      config: ParsecConfig;
      warnings: string[];
      /** The master key is the generated one kept in `credentialsFile` (print it; the user has no other copy). */
      generatedCredentials: boolean;
      /** Set when the app id and/or master key come from the stored credentials. */
      credentialsFile?: string;
    }
  | { ok: false; problems: string[] };

export async function loadConfig(input: LoadInput): Promise<LoadResult> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const take = (layer: Layer): Partial<OptionValues> => {
    problems.push(...layer.problems);
    warnings.push(...layer.warnings);
    return layer.values;
  };

  const flags = parseFlags(input.argv);
  problems.push(...flags.problems);
  const fileValues = take(await configFileLayer(flags.configFile, input, problems));
  const values: Partial<OptionValues> = {
    ...take(defaultLayer()),
    ...fileValues,
    ...take(envLayer(input.env)),
    ...take(flagLayer(flags.values)),
  };

  const masterKeyConfigured = values.masterKey !== undefined;
  let stored: Credentials | undefined;
  let credentialsFile: string | undefined;
  const needsCredentials = values.appId === undefined || values.masterKey === undefined;
  if (needsCredentials) {
    const read = await readCredentials(input.cwd);
    if (read.ok) {
      stored = read.credentials;
      credentialsFile = read.path;
    } else {
      problems.push(read.problem);
    }
  }
  // Checks see the stored credentials too (a configured readOnlyMasterKey must differ from a stored master key).
  const checked = crossCheck(withCredentials(values, stored), masterKeyConfigured);
  problems.push(...checked.problems);
  warnings.push(...checked.warnings);

  const databaseURI = values.databaseURI === undefined ? undefined : resolveDatabaseURI(values.databaseURI, input.cwd);
  if (databaseURI && !databaseURI.ok) problems.push(databaseURI.reason);
  const cloud = values.cloud === undefined ? undefined : resolve(input.cwd, values.cloud);
  if (cloud !== undefined && !(await exists(cloud))) problems.push(`cloud: Cloud Code file ${cloud} does not exist`);

  if (problems.length > 0) return { ok: false, problems };

  if (needsCredentials && stored === undefined) {
    const created = await createCredentials(input.cwd);
    if (!created.ok) return { ok: false, problems: [created.problem] };
    stored = created.credentials;
    credentialsFile = created.path;
  }
  const final = withCredentials(values, stored);
  const config = buildConfig({ values: final, databaseURI: databaseURI?.ok ? databaseURI.value : '', cloud });
  return {
    ok: true,
    config,
    warnings,
    generatedCredentials: !masterKeyConfigured,
    ...(needsCredentials && credentialsFile !== undefined ? { credentialsFile } : {}),
  };
}

/** The config-file layer, if a file was named by --config or PARSEC_CONFIG (the flag wins). */
async function configFileLayer(fromFlag: string | undefined, input: LoadInput, problems: string[]): Promise<Layer> {
  const none: Layer = { values: {}, problems: [], warnings: [] };
  const file = fromFlag ?? input.env[CONFIG_ENV];
  if (file === undefined) return none;
  if (file === '') {
    problems.push(`${fromFlag === undefined ? CONFIG_ENV : '--config'} is empty: name a JSON config file or leave it unset`);
    return none;
  }
  const read = await readConfigFile(file, input.cwd);
  if (!read.ok) {
    problems.push(...read.problems);
    return none;
  }
  return fileLayer(read.path, read.entries);
}

/** Configured values win; stored credentials only fill what is missing. */
function withCredentials(values: Partial<OptionValues>, stored: Credentials | undefined): Partial<OptionValues> {
  if (stored === undefined) return values;
  return { ...values, appId: values.appId ?? stored.appId, masterKey: values.masterKey ?? stored.masterKey };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
