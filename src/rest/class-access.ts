import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { assertClassName } from '../schema/names.ts';
import type { Caller } from './services.ts';

export type Operation = 'find' | 'get' | 'count' | 'create' | 'update' | 'delete';

/**
 * Which classes `/classes` serves. Classes whose names start with `_` belong to the server: `_User`,
 * `_Session`, `_Role` and `_Installation` are served through their plugins (only the operations a plugin
 * declares), the others are internal, and `_Join:*` relation tables are never addressable. A class without
 * a plugin is reached by nobody here, master included, so no special class is written without its rules.
 */
export function assertClassServed(caller: Caller, className: string, operation: Operation): void {
  const plugin = caller.services.plugins.get(className);
  const master = caller.auth.kind === 'master' || caller.auth.kind === 'readOnlyMaster';
  const masterOnly = plugin?.masterOnly === true || plugin?.masterOnlyOperations?.has(operation) === true;
  if (className.startsWith('_') && (plugin?.operations.has(operation) !== true || (masterOnly && !master))) {
    throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, `Clients aren't allowed to perform the ${operation} operation on the ${className} collection.`);
  }
  assertClassName(className);
  if (caller.auth.kind === 'readOnlyMaster' && (operation === 'create' || operation === 'update' || operation === 'delete')) {
    throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, `read-only masterKey isn't allowed to perform the ${operation} operation.`);
  }
}

/** A class that does not exist: clients may not create it (or probe it) unless allowed by configuration. */
export function assertMayUseMissingClass(caller: Caller, className: string): void {
  if (caller.auth.kind !== 'master' && !caller.services.config.allowClientClassCreation) {
    throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, `This user is not allowed to access non-existent class: ${className}`);
  }
}
