import type { AuthContext } from '../auth/context.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { ClassLevelPermissions } from '../schema/types.ts';

export type ClpOperation = 'find' | 'get' | 'count' | 'create' | 'update' | 'delete' | 'addField';

/**
 * What a class-level permission grants a (non-master) caller: the whole operation, or only the rows whose
 * pointer fields hold the caller (Parse's pointer permissions).
 */
export type Grant = { readonly kind: 'all' } | { readonly kind: 'pointer'; readonly fields: readonly string[] };

const ALL: Grant = Object.freeze({ kind: 'all' });

const READ_OPERATIONS: ReadonlySet<ClpOperation> = new Set(['find', 'get', 'count']);

function entriesOf(clp: ClassLevelPermissions, operation: ClpOperation): Readonly<Record<string, unknown>> {
  const entries = clp[operation];
  // A stored CLP that does not name an operation grants it to nobody but the master key (as in Parse).
  return typeof entries === 'object' && entries !== null ? (entries as Record<string, unknown>) : {};
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function permissionDenied(operation: ClpOperation, className: string): ParseError {
  return new ParseError(ErrorCode.OPERATION_FORBIDDEN, `Permission denied for action ${operation} on class ${className}.`);
}

/**
 * Decides one operation for one caller (reference §4.4): a matching `*`, user id or role entry grants it;
 * `requiresAuthentication` grants it to any logged-in user and answers anonymous callers as Parse does
 * (101); otherwise pointer permissions grant it row by row (never for create); otherwise 119.
 * Master callers never get here.
 */
export function grantFor(clp: ClassLevelPermissions, auth: AuthContext, operation: ClpOperation, className: string, isCreate = false): Grant {
  const entries = entriesOf(clp, operation);
  if (entries['*'] === true) return ALL;
  if (auth.kind === 'user' && (entries[auth.userId] === true || auth.roles.some((role) => entries[`role:${role}`] === true))) return ALL;
  if (entries.requiresAuthentication === true) {
    if (auth.kind !== 'user') throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Permission denied, user needs to be authenticated.');
    return ALL;
  }
  if (operation === 'create' || (operation === 'addField' && isCreate)) throw permissionDenied(operation, className);
  const userFields = READ_OPERATIONS.has(operation) ? clp.readUserFields : clp.writeUserFields;
  const fields = [...new Set([...stringList(entries.pointerFields), ...stringList(userFields)])];
  if (fields.length > 0) return { kind: 'pointer', fields };
  throw permissionDenied(operation, className);
}
