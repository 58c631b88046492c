import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { ObjectWrite } from '../query/write-tree.ts';
import type { ClassPlugin } from '../rest/class-plugin.ts';
import type { RoleStore } from './role-store.ts';

export const ROLE_CLASS = '_Role';

// The SDK's rule, enforced here so a REST client cannot create a role no ACL entry could name cleanly.
const ROLE_NAME = /^[0-9a-zA-Z\-_ ]+$/;

function checkName(write: ObjectWrite): void {
  const entry = write.writes.find((w) => w.target.field === 'name');
  if (entry === undefined) throw new ParseError(ErrorCode.INCORRECT_TYPE, 'name is required.');
  const { operation, target } = entry;
  if (target.path.length > 0 || operation.op !== 'set' || operation.value.kind !== 'string' || !ROLE_NAME.test(operation.value.value)) {
    throw new ParseError(ErrorCode.INVALID_ROLE_NAME, "A role's name can be only contain alphanumeric characters, _, - and spaces.");
  }
}

/**
 * `_Role`: a named group whose `users` and `roles` relations grant `role:<name>` ACL and CLP entries. The
 * name is validated and immutable (ACL entries refer to it), and membership changes only through the
 * role's own relations, under the role's own ACL, like any update. Every change clears the role cache.
 */
export function rolePlugin(roles: RoleStore): ClassPlugin {
  return {
    className: ROLE_CLASS,
    operations: new Set(['find', 'get', 'count', 'create', 'update', 'delete']),

    prepareCreate(_caller, write) {
      checkName(write);
      if (write.acl === undefined) throw new ParseError(ErrorCode.INCORRECT_TYPE, 'ACL is required.');
      return Promise.resolve({ write, internal: [] });
    },

    async afterCreate(_caller, db) {
      await roles.invalidate(db);
      return undefined;
    },

    prepareUpdate(_caller, _objectId, write) {
      if (write.writes.some((w) => w.target.field === 'name')) {
        throw new ParseError(ErrorCode.CHANGED_IMMUTABLE_FIELD, "A role's name can only be set before it has been saved.");
      }
      return Promise.resolve({ write, internal: [] });
    },

    afterUpdate(_caller, db) {
      return roles.invalidate(db);
    },

    afterDelete(_caller, db) {
      return roles.invalidate(db);
    },

    uniqueViolation(constraint) {
      if (constraint === '_Role_name_key') return new ParseError(ErrorCode.DUPLICATE_VALUE, 'A role with that name already exists.');
      return undefined;
    },
  };
}
