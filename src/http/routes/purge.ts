import { purge } from '../../rest/purge.ts';
import { ok, type Router } from '../router.ts';

export function registerPurgeRoute(router: Router): void {
  router.add('DELETE', '/purge/:className', async (request, params) => {
    await purge(request.caller, params.className ?? '');
    return ok({});
  });
}
