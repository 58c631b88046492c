import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Condition } from '../query/tree.ts';
import type { ClassPlugin } from '../rest/class-plugin.ts';
import type { SessionStore } from './session-store.ts';
import { SESSION_CLASS, USER_CLASS } from './system-classes.ts';

/** Fields only the server sets; a client naming one at all (even to null or Delete) is refused. */
const SERVER_FIELDS = new Set(['sessionToken', 'expiresAt', 'createdWith', 'user', 'installationId', 'restricted']);

const NOTHING: Condition = { type: 'or', conditions: [] };

/**
 * `_Session`: a user reads, updates and deletes only their own sessions (a row condition in the same SQL
 * statement as the ACL), never the server-owned fields; sessions are created by sign-up, login and
 * `POST /sessions`, never through the generic create.
 */
export function sessionPlugin(sessions: SessionStore): ClassPlugin {
  return {
    className: SESSION_CLASS,
    operations: new Set(['find', 'get', 'count', 'update', 'delete']),

    rowFilter(auth) {
      if (auth.kind !== 'user') return NOTHING;
      return {
        type: 'compare',
        target: { field: 'user', path: [] },
        operator: '=',
        value: { kind: 'pointer', className: USER_CLASS, objectId: auth.userId },
      };
    },

    prepareUpdate(caller, _objectId, write) {
      for (const { target } of write.writes) {
        if (SERVER_FIELDS.has(target.field)) throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Cannot modify field ${target.field} of a session.`);
      }
      if (write.acl !== undefined) throw new ParseError(ErrorCode.INVALID_KEY_NAME, 'Cannot modify field ACL of a session.');
      return Promise.resolve({ write, internal: [] });
    },

    afterDelete(_caller, db, objectId) {
      return sessions.forgetSession(db, objectId);
    },
  };
}
