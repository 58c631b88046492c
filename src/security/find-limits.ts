/**
 * Which query limits apply to a caller. Everyone gets `queryDepth` and `maxLimit` (they protect the process
 * and the database); the shape limits of `requestComplexity` apply to clients, not to the master keys or the
 * maintenance key (as in Parse: scripts and dashboards holding those keys are trusted); `explain` and `hint`
 * are for the master keys only (Parse 9 refuses `explain` to everyone else too).
 */
import type { FindLimits } from '../query/parse-find.ts';
import type { Caller } from '../rest/services.ts';

export function findLimitsFor(caller: Caller): FindLimits {
  const { config } = caller.services;
  const { kind } = caller.auth;
  if (kind !== 'master' && kind !== 'readOnlyMaster' && kind !== 'maintenance') return config;
  return { defaultLimit: config.defaultLimit, maxLimit: config.maxLimit, queryDepth: config.queryDepth, allowMasterOptions: kind !== 'maintenance' };
}
