import { runFunction } from '../../cloud/functions.ts';
import { startJob } from '../../cloud/jobs.ts';
import { masterKeyRequired } from '../../errors/parse-error.ts';
import { assertSafeJson } from '../../query/safe-json.ts';
import { isPlainObject } from '../../query/values.ts';
import { ok, type ApiRequest, type Router } from '../router.ts';

/**
 * Params from the body and the query string, merged as Parse Server does (the query string wins), and
 * checked like any request JSON: a query key `__proto__` is refused as it would be in a body.
 */
function paramsOf(request: ApiRequest): Record<string, unknown> {
  const params = Object.fromEntries([...Object.entries(isPlainObject(request.body) ? request.body : {}), ...Object.entries(request.query)]);
  assertSafeJson(params);
  return params;
}

export function registerFunctionRoutes(router: Router): void {
  const handle = async (request: ApiRequest, params: Readonly<Record<string, string>>) => {
    const { caller } = request;
    return ok(await runFunction(caller.services.cloud, caller, { name: params.name ?? '', params: paramsOf(request), fromCloud: request.fromCloud === true }));
  };
  router
    .add('POST', '/functions/:name', handle)
    .add('GET', '/functions/:name', handle)
    .add('POST', '/jobs/:name', async (request, params) => {
      const statusId = await startJob(request.caller, params.name ?? '', paramsOf(request));
      return { status: 200, body: {}, headers: { 'X-Parse-Job-Status-Id': statusId } };
    })
    .add('GET', '/cloud_code/jobs/data', (request) => {
      const { auth, services } = request.caller;
      if (auth.kind !== 'master' && auth.kind !== 'readOnlyMaster') throw masterKeyRequired();
      return Promise.resolve(ok({ jobs: [...services.cloud.registry.jobs.keys()], in_use: [] }));
    });
}
