import { ErrorCode, ParseError, masterKeyRequired } from '../../errors/parse-error.ts';
import { parseGetOptions } from '../../query/parse-find.ts';
import { isPlainObject } from '../../query/values.ts';
import { hasUserTrigger, runUserTrigger } from '../../cloud/user-triggers.ts';
import { get } from '../../rest/find.ts';
import { readStored } from '../../rest/stored.ts';
import type { Caller } from '../../rest/services.ts';
import { loginInput, readOwnUser, verifyCredentials } from '../../users/login.ts';
import { USER_CLASS } from '../../users/system-classes.ts';
import { ok, type ApiRequest, type Handler, type Router } from '../router.ts';
import { findOptions, registerObjectRoutes } from './classes.ts';

const invalidSession = (): ParseError => new ParseError(ErrorCode.INVALID_SESSION_TOKEN, 'Invalid session token');

const byId = (objectId: string) => parseGetOptions(USER_CLASS, objectId, {});

async function startSession(caller: Caller, userId: string, action: string): Promise<{ sessionId: string; token: string }> {
  const { sessions, driver } = caller.services;
  const session = await sessions.create(driver, { userId, createdWith: { action, authProvider: 'password' }, installationId: caller.client?.installationId, restricted: false });
  return { sessionId: session.sessionId, token: session.token };
}

const logIn: Handler = async (request) => {
  const input = loginInput(findOptions(request));
  const { userId, user } = await verifyCredentials(request.caller, input);
  // Only after the right password: a trigger's refusal must not become a way to test accounts.
  await runUserTrigger(request.caller, 'beforeLogin', user);
  const session = await startSession(request.caller, userId, 'login');
  await runUserTrigger(request.caller, 'afterLogin', user);
  return ok({ ...user, sessionToken: session.token });
};

const verifyPassword: Handler = async (request) => {
  const { user } = await verifyCredentials(request.caller, loginInput(findOptions(request)));
  return ok(user);
};

function requireUser(request: ApiRequest): { userId: string; sessionId: string; sessionToken: string } {
  const { auth } = request.caller;
  if (auth.kind !== 'user') throw invalidSession();
  return auth;
}

export function registerUserRoutes(router: Router): void {
  router
    .add('POST', '/login', logIn)
    .add('GET', '/login', async (request, params) => {
      if (!request.caller.services.config.allowGetLogin) {
        throw new ParseError(ErrorCode.INVALID_JSON, 'GET /login is disabled: send credentials with POST (allowGetLogin enables it).');
      }
      return logIn(request, params);
    })
    .add('POST', '/verifyPassword', verifyPassword)
    .add('GET', '/verifyPassword', verifyPassword)
    .add('POST', '/logout', async (request) => {
      const { auth, services } = request.caller;
      if (auth.kind !== 'user') return ok({});
      const session = hasUserTrigger(request.caller, 'afterLogout') ? await readStored(request.caller, '_Session', auth.sessionId, undefined) : undefined;
      await services.sessions.deleteByToken(services.driver, auth.sessionToken);
      if (session !== undefined) await runUserTrigger(request.caller, 'afterLogout', session, '_Session');
      return ok({});
    })
    .add('GET', '/users/me', async (request) => {
      const auth = requireUser(request);
      const user = await readOwnUser(request.caller, auth.userId).catch(() => {
        throw invalidSession();
      });
      return ok({ ...user, sessionToken: auth.sessionToken });
    })
    .add('POST', '/loginAs', async (request) => {
      const { auth } = request.caller;
      if (auth.kind === 'readOnlyMaster') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to perform the loginAs operation.");
      if (auth.kind !== 'master') throw masterKeyRequired();
      const userId = isPlainObject(request.body) ? request.body.userId : undefined;
      if (typeof userId !== 'string' || userId === '') throw new ParseError(ErrorCode.INVALID_VALUE, 'userId must not be empty, null, or undefined');
      const user = await get(request.caller, byId(userId)).catch(() => {
        throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'user not found');
      });
      const session = await startSession(request.caller, userId, 'login');
      const visible = await readOwnUser(request.caller, userId, session).catch(() => user);
      return ok({ ...visible, sessionToken: session.token });
    })
    .add('POST', '/upgradeToRevocableSession', (request) => {
      // Every Parsec session is already a revocable `r:` session; the caller's own is returned as is.
      const auth = requireUser(request);
      return Promise.resolve(ok({ objectId: auth.sessionId, sessionToken: auth.sessionToken, __type: 'Object', className: '_Session' }));
    });
  registerObjectRoutes(router, '/users', USER_CLASS);
}
