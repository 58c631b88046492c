/**
 * Parse Server's spelling of a LiveQuery server: `startLiveQueryServer: true` and `liveQueryServerOptions:
 * {"port": n}`. Parse then serves LiveQuery on that port instead of the REST one, which is what Parsec's
 * `liveQuery.port` does, so a parse-server config.json keeps its meaning: the port (and Parsec's `host`) are
 * folded into the same file's `liveQuery` before that is read. Only in a config file: the environment and
 * flags have `PARSEC_LIVE_QUERY` alone.
 */
import { readPlace } from './live-query-option.ts';

export const PARSE_LIVE_QUERY_SERVER_KEYS: readonly string[] = ['startLiveQueryServer', 'liveQueryServerOptions'];

export interface Folded {
  readonly entries: ReadonlyMap<string, unknown>;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

const PLACE = ['port', 'host'];
const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `entries` without Parse's two keys, `liveQuery` carrying the port they name; `path` only names the file. */
export function foldLiveQueryServer(entries: ReadonlyMap<string, unknown>, path: string): Folded {
  const problems: string[] = [];
  const warnings: string[] = [];
  const folded = new Map(entries);
  for (const key of PARSE_LIVE_QUERY_SERVER_KEYS) folded.delete(key);

  const start = entries.get('startLiveQueryServer');
  if (start === false) {
    // Parse would then only publish for a LiveQuery server elsewhere; Parsec's publisher and server are one.
    warnings.push(`${path}: startLiveQueryServer: false is not followed: Parsec serves LiveQuery whenever liveQuery is set (remove liveQuery to turn it off).`);
  } else if (start !== undefined && start !== null && start !== true) {
    problems.push(`${path}: startLiveQueryServer must be true or false, got ${shown(start)}`);
  }

  const options = entries.get('liveQueryServerOptions');
  if (options === undefined || options === null) return { entries: folded, problems, warnings };
  if (!isPlainObject(options)) {
    problems.push(`${path}: liveQueryServerOptions must be an object like {"port": 1338}, got ${shown(options)}`);
    return { entries: folded, problems, warnings };
  }
  // Parse's LiveQuery server would refuse clients without one of these keys; ignoring them could let in
  // clients the owner meant to refuse, so this is an error as in unsupported.ts.
  const { keyPairs } = options;
  if (keyPairs !== undefined && keyPairs !== null && !(isPlainObject(keyPairs) && Object.keys(keyPairs).length === 0)) {
    problems.push(
      `${path}: liveQueryServerOptions.keyPairs is not implemented by Parsec, and ignoring it would leave LiveQuery less protected than configured (its connections are checked with the REST keys: javascriptKey, restAPIKey, clientKey, windowsKey, masterKey). Remove it to run without that protection.`,
    );
  }
  const ignored = Object.keys(options).filter((key) => !PLACE.includes(key) && key !== 'keyPairs');
  if (ignored.length > 0) {
    warnings.push(`${path}: liveQueryServerOptions: ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} not implemented by Parsec and ignored; only port and host are read (as liveQuery's).`);
  }
  const placeProblems: string[] = [];
  const place = readPlace(options, placeProblems);
  problems.push(...placeProblems.map((problem) => `${path}: liveQueryServerOptions.${problem}`));
  if (placeProblems.length > 0 || place.port === undefined) return { entries: folded, problems, warnings };

  const liveQuery = entries.get('liveQuery');
  if (!isPlainObject(liveQuery)) {
    warnings.push(`${path}: liveQueryServerOptions.port is ignored: it applies to liveQuery, which this file does not set as an object (put "port" in liveQuery instead).`);
  } else if (PLACE.some((key) => liveQuery[key] !== undefined)) {
    problems.push(`${path}: liveQueryServerOptions and liveQuery both set LiveQuery's port or host; keep one`);
  } else {
    folded.set('liveQuery', { ...liveQuery, ...place });
  }
  return { entries: folded, problems, warnings };
}
