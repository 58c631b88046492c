import { parseFindOptions, parseGetOptions } from '../../query/parse-find.ts';
import { isPlainObject } from '../../query/values.ts';
import { create, UPDATED_EXISTING } from '../../rest/create.ts';
import { destroy } from '../../rest/destroy.ts';
import { find, get } from '../../rest/find.ts';
import { update } from '../../rest/update.ts';
import { findLimitsFor } from '../../security/find-limits.ts';
import { ok, type ApiRequest, type Router } from '../router.ts';

/** Find options come from the query string, or from the body in the SDK's POST-with-`_method:GET` form. */
export function findOptions(request: ApiRequest): Record<string, unknown> {
  return { ...request.query, ...(isPlainObject(request.body) ? request.body : {}) };
}

/** A client's read: the read replica may serve it (`readReplicaURI`, rest/read-source.ts). */
const CLIENT_READ = { replica: true } as const;

/**
 * The object routes under `base`: `/classes/:className[/:objectId]`, or a fixed class such as
 * `/users[/:objectId]` for `_User`. Every class, special or not, goes through the same use cases.
 */
export function registerObjectRoutes(router: Router, base: string, fixedClass?: string): void {
  const collection = fixedClass === undefined ? `${base}/:className` : base;
  const className = (params: Readonly<Record<string, string>>): string => fixedClass ?? params.className ?? '';
  router
    .add('GET', collection, async (request, params) => {
      return ok(await find(request.caller, parseFindOptions(className(params), findOptions(request), findLimitsFor(request.caller)), 'find', CLIENT_READ));
    })
    .add('GET', `${collection}/:objectId`, async (request, params) => {
      return ok(await get(request.caller, parseGetOptions(className(params), params.objectId ?? '', findOptions(request), findLimitsFor(request.caller)), CLIENT_READ));
    })
    .add('POST', collection, async (request, params) => {
      const created = await create(request.caller, className(params), request.body);
      if (created[UPDATED_EXISTING] === true) return ok(created);
      const location = `${request.caller.services.config.serverURL}${base}/${fixedClass === undefined ? `${encodeURIComponent(className(params))}/` : ''}${created.objectId}`;
      return { status: 201, body: created, headers: { location } };
    })
    .add('PUT', `${collection}/:objectId`, async (request, params) => {
      return ok(await update(request.caller, className(params), params.objectId ?? '', request.body));
    })
    .add('DELETE', `${collection}/:objectId`, async (request, params) => {
      await destroy(request.caller, className(params), params.objectId ?? '');
      return ok({});
    });
}

export function registerClassRoutes(router: Router): void {
  registerObjectRoutes(router, '/classes');
  // Parse's REST alias for roles; the same pipeline as /classes/_Role.
  registerObjectRoutes(router, '/roles', '_Role');
}
