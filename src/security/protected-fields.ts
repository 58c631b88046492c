import type { AuthContext } from '../auth/context.ts';
import { isPlainObject } from '../query/values.ts';

/** Audience → field list, as stored under a CLP's `protectedFields` (and in the server option). */
export type ProtectedFieldRules = Readonly<Record<string, readonly string[]>>;

/** One caller's protected fields on one class, computed once and applied to every row. */
export interface ProtectedFields {
  /** Fields this caller may not name in a query (where, order, keys, include): they would be an oracle. */
  readonly unqueryable: ReadonlySet<string>;
  /** The fields to remove from one object before it is returned. */
  hiddenIn(object: Readonly<Record<string, unknown>>): ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();
export const NOTHING_PROTECTED: ProtectedFields = Object.freeze({ unqueryable: NONE, hiddenIn: () => NONE });

function intersect(sets: readonly (readonly string[])[]): Set<string> {
  const [first, ...rest] = sets;
  const result = new Set(first);
  for (const list of rest) {
    const keep = new Set(list);
    for (const field of result) if (!keep.has(field)) result.delete(field);
  }
  return result;
}

function pointsTo(value: unknown, userId: string): boolean {
  const isCaller = (item: unknown): boolean => isPlainObject(item) && item.__type === 'Pointer' && item.className === '_User' && item.objectId === userId;
  return Array.isArray(value) ? value.some(isCaller) : isCaller(value);
}

/** The class's rules merged with the server-wide option for it (lists are united per audience). */
export function mergeRules(stored: unknown, configured: ProtectedFieldRules | undefined): Map<string, readonly string[]> {
  const merged = new Map<string, readonly string[]>();
  if (isPlainObject(stored)) {
    for (const [audience, list] of Object.entries(stored)) if (Array.isArray(list)) merged.set(audience, list.filter((f): f is string => typeof f === 'string'));
  }
  for (const [audience, list] of Object.entries(configured ?? {})) merged.set(audience, [...new Set([...(merged.get(audience) ?? []), ...list])]);
  return merged;
}

/**
 * Parse's rule (reference §4.5): every audience that applies to the caller (`*`, `authenticated`, each of
 * their roles, their user id, and `userField:f` on rows whose `f` holds them) names a list, and a field is
 * hidden only when every applicable list names it, so a role entry can reveal a field to its members.
 * `ownerExempt` (`_User`) shows a user their own row in full.
 */
export function protectedFieldsFor(rules: ReadonlyMap<string, readonly string[]>, auth: AuthContext, ownerExempt: boolean): ProtectedFields {
  if (auth.kind !== 'anonymous' && auth.kind !== 'user') return NOTHING_PROTECTED;
  if (rules.size === 0) return NOTHING_PROTECTED;
  const audiences = ['*'];
  if (auth.kind === 'user') audiences.push('authenticated', auth.userId, ...auth.roles.map((role) => `role:${role}`));
  const fixed = audiences.flatMap((audience) => {
    const list = rules.get(audience);
    return list === undefined ? [] : [list];
  });
  const byUserField = auth.kind !== 'user' ? [] : [...rules].filter(([audience]) => audience.startsWith('userField:')).map(([audience, list]) => ({ field: audience.slice('userField:'.length), list }));
  if (fixed.length === 0 && byUserField.length === 0) return NOTHING_PROTECTED;
  const fixedHidden = fixed.length === 0 ? undefined : intersect(fixed);
  // Without a fixed audience only rows naming the caller hide anything; a query may still not test those fields.
  const unqueryable = fixedHidden ?? new Set(byUserField.flatMap(({ list }) => list));
  if (byUserField.length === 0 && !ownerExempt) return { unqueryable, hiddenIn: () => fixedHidden ?? NONE };
  const userId = auth.kind === 'user' ? auth.userId : undefined;
  return {
    unqueryable,
    hiddenIn(object) {
      if (ownerExempt && userId !== undefined && object.objectId === userId) return NONE;
      const applicable = byUserField.filter(({ field }) => userId !== undefined && pointsTo(object[field], userId)).map(({ list }) => list);
      if (fixedHidden !== undefined) applicable.push([...fixedHidden]);
      return applicable.length === 0 ? NONE : intersect(applicable);
    },
  };
}

/**
 * Adds fields no one but the row's own user sees or queries (a plugin's `ownerOnlyFields`, e.g. `_User`
 * `authData`), whatever the protectedFields rules say: unqueryable for every non-master caller, hidden in
 * every row but the caller's own.
 */
export function withOwnerOnly(fields: ProtectedFields, auth: AuthContext, ownerOnly: readonly string[] | undefined): ProtectedFields {
  if (ownerOnly === undefined || ownerOnly.length === 0 || (auth.kind !== 'anonymous' && auth.kind !== 'user')) return fields;
  const userId = auth.kind === 'user' ? auth.userId : undefined;
  const unqueryable = new Set([...fields.unqueryable, ...ownerOnly]);
  return {
    unqueryable,
    hiddenIn(object) {
      const hidden = fields.hiddenIn(object);
      if (userId !== undefined && object.objectId === userId) return hidden;
      return new Set([...hidden, ...ownerOnly]);
    },
  };
}
