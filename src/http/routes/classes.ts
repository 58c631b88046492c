import { parseFindOptions, parseGetOptions } from '../../query/parse-find.ts';
import { create } from '../../rest/create.ts';
import { destroy } from '../../rest/destroy.ts';
import { find, get } from '../../rest/find.ts';
import { update } from '../../rest/update.ts';
import { isPlainObject } from '../../query/values.ts';
import { ok, type ApiRequest, type Router } from '../router.ts';

/** Find options come from the query string, or from the body in the SDK's POST-with-`_method:GET` form. */
function findOptions(request: ApiRequest): Record<string, unknown> {
  return { ...request.query, ...(isPlainObject(request.body) ? request.body : {}) };
}

export function registerClassRoutes(router: Router): void {
  router
    .add('GET', '/classes/:className', async (request, { className = '' }) => {
      const { config } = request.caller.services;
      return ok(await find(request.caller, parseFindOptions(className, findOptions(request), config)));
    })
    .add('GET', '/classes/:className/:objectId', async (request, { className = '', objectId = '' }) => {
      return ok(await get(request.caller, parseGetOptions(className, objectId, findOptions(request))));
    })
    .add('POST', '/classes/:className', async (request, { className = '' }) => {
      const created = await create(request.caller, className, request.body);
      const location = `${request.caller.services.config.serverURL}/classes/${encodeURIComponent(className)}/${created.objectId}`;
      return { status: 201, body: created, headers: { location } };
    })
    .add('PUT', '/classes/:className/:objectId', async (request, { className = '', objectId = '' }) => {
      return ok(await update(request.caller, className, objectId, request.body));
    })
    .add('DELETE', '/classes/:className/:objectId', async (request, { className = '', objectId = '' }) => {
      await destroy(request.caller, className, objectId);
      return ok({});
    });
}
