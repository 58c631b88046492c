/** Classes as the audit reports them: who each class-level permission lets in, in words. */
import type { ParsecConfig } from '../config/types.ts';
import type { ClassPlugins } from '../rest/class-plugin.ts';
import type { ClassSchema } from '../schema/types.ts';
import type { ClassSurface } from './types.ts';

export const CLP_OPERATIONS = ['find', 'get', 'count', 'create', 'update', 'delete', 'addField'] as const;
const READS = new Set(['find', 'get', 'count']);
const MASTER_ONLY = 'the master key only';
const NOT_OFFERED = 'nobody through the API (server-managed)';

export function describeClasses(schemas: readonly ClassSchema[], plugins: ClassPlugins, config: ParsecConfig): ClassSurface[] {
  return schemas.map((schema) => describeClass(schema, plugins, config));
}

function describeClass(schema: ClassSchema, plugins: ClassPlugins, config: ParsecConfig): ClassSurface {
  const { className, classLevelPermissions: clp } = schema;
  const plugin = plugins.get(className);
  const operations: Record<string, string> = {};
  const publicOperations: string[] = [];
  for (const operation of CLP_OPERATIONS) {
    if (className.startsWith('_') && plugin === undefined) operations[operation] = NOT_OFFERED;
    else if (plugin?.masterOnly === true || (operation !== 'addField' && plugin?.masterOnlyOperations?.has(operation) === true)) operations[operation] = MASTER_ONLY;
    else if (plugin !== undefined && operation !== 'addField' && !plugin.operations.has(operation)) operations[operation] = NOT_OFFERED;
    else {
      const userFields = READS.has(operation) ? clp.readUserFields : clp.writeUserFields;
      operations[operation] = whoMay(clp[operation], userFields);
      if (isPublic(clp[operation])) publicOperations.push(operation);
    }
    if (plugin?.rowFilter !== undefined && plugin.masterOnly !== true && operations[operation] !== NOT_OFFERED && operations[operation] !== MASTER_ONLY && operation !== 'create' && operation !== 'addField') {
      operations[operation] += ', on their own rows only';
    }
  }
  const protectedFields = mergeProtected(clp.protectedFields, config.protectedFields[className]);
  return { className, operations, publicOperations, protectedFields, summary: summarise(className, operations) };
}

function isPublic(entries: unknown): boolean {
  return typeof entries === 'object' && entries !== null && (entries as Record<string, unknown>)['*'] === true;
}

/** One operation's CLP entries in words: `anyone`, `logged-in users`, `role staff`, `users named in owner`, … */
export function whoMay(entries: unknown, userFields: unknown): string {
  if (typeof entries !== 'object' || entries === null) return MASTER_ONLY;
  const record = entries as Record<string, unknown>;
  if (record['*'] === true) return 'anyone';
  const who: string[] = [];
  if (record.requiresAuthentication === true) who.push('logged-in users');
  for (const [principal, granted] of Object.entries(record)) {
    if (granted !== true || principal === 'requiresAuthentication') continue;
    who.push(principal.startsWith('role:') ? `role ${principal.slice(5)}` : `user ${principal}`);
  }
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
  const pointerFields = [...list(record.pointerFields), ...list(userFields)];
  for (const field of new Set(pointerFields)) who.push(`users named in ${String(field)}`);
  return who.length === 0 ? MASTER_ONLY : who.join(', ');
}

function mergeProtected(fromClp: unknown, fromConfig: Readonly<Record<string, readonly string[]>> | undefined): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  const add = (source: unknown): void => {
    if (typeof source !== 'object' || source === null) return;
    for (const [audience, fields] of Object.entries(source as Record<string, unknown>)) {
      if (!Array.isArray(fields) || fields.length === 0) continue;
      merged[audience] = [...new Set([...(merged[audience] ?? []), ...fields.map(String)])];
    }
  };
  add(fromClp);
  add(fromConfig);
  return merged;
}

/** "anyone can find, get, count and create Note; logged-in users can update Note; only the master key can delete and addField Note". */
function summarise(className: string, operations: Readonly<Record<string, string>>): string {
  const groups = new Map<string, string[]>();
  for (const operation of CLP_OPERATIONS) {
    const who = operations[operation] ?? MASTER_ONLY;
    groups.set(who, [...(groups.get(who) ?? []), operation]);
  }
  const list = (items: readonly string[]): string => (items.length === 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`);
  return [...groups]
    .map(([who, ops]) => (who === MASTER_ONLY ? `only the master key can ${list(ops)} ${className}` : who === NOT_OFFERED ? `nobody can ${list(ops)} ${className} through the API` : `${who} can ${list(ops)} ${className}`))
    .join('; ');
}
