import { ErrorCode, ParseError } from '../../errors/parse-error.ts';
import { parseGetOptions } from '../../query/parse-find.ts';
import { isPlainObject } from '../../query/values.ts';
import { get } from '../../rest/find.ts';
import { SESSION_CLASS } from '../../users/system-classes.ts';
import { ok, type ApiRequest, type Router } from '../router.ts';
import { registerObjectRoutes } from './classes.ts';

/** Keys a client may never send when creating a session: the server decides all of them. */
const SERVER_FIELDS = ['sessionToken', 'expiresAt', 'createdWith', 'user', 'installationId', 'restricted', 'ACL', 'objectId', 'createdAt', 'updatedAt'];

const sessionQuery = (objectId: string) => parseGetOptions(SESSION_CLASS, objectId, {});

function requireUser(request: ApiRequest): { userId: string; sessionId: string; sessionToken: string } {
  const { auth } = request.caller;
  if (auth.kind !== 'user') throw new ParseError(ErrorCode.INVALID_SESSION_TOKEN, 'Invalid session token');
  return auth;
}

export function registerSessionRoutes(router: Router): void {
  router
    .add('GET', '/sessions/me', async (request) => {
      const auth = requireUser(request);
      const session = await get(request.caller, sessionQuery(auth.sessionId));
      // The token is not stored (only its hash); the caller's own copy is handed back, as Parse does.
      return ok({ ...session, sessionToken: auth.sessionToken });
    })
    .add('POST', '/sessions', async (request) => {
      const auth = requireUser(request);
      const body = isPlainObject(request.body) ? request.body : {};
      for (const key of Object.keys(body)) {
        if (SERVER_FIELDS.includes(key)) throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Cannot set field ${key} of a session.`);
      }
      if (Object.keys(body).length > 0) throw new ParseError(ErrorCode.INVALID_KEY_NAME, 'A new session takes no fields.');
      const { sessions, driver } = request.caller.services;
      const created = await sessions.create(driver, { userId: auth.userId, createdWith: { action: 'create' }, installationId: undefined, restricted: true });
      return {
        status: 201,
        body: { objectId: created.sessionId, createdAt: created.createdAt.toISOString(), sessionToken: created.token, restricted: true },
      };
    });
  registerObjectRoutes(router, '/sessions', SESSION_CLASS);
}
