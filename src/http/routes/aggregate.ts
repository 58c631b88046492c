import { parseAggregate } from '../../query/parse-aggregate.ts';
import { aggregate, assertMayAggregate } from '../../rest/aggregate.ts';
import { ok, type Router } from '../router.ts';
import { findOptions } from './classes.ts';

/** `GET /aggregate/:className` (`distinct` or a pipeline), master key only; the SDK sends it as POST + `_method: GET`. */
export function registerAggregateRoute(router: Router): void {
  router.add('GET', '/aggregate/:className', async (request, { className = '' }) => {
    // The key is checked before the pipeline is read, as in Parse: a client learns nothing from its errors.
    assertMayAggregate(request.caller);
    const parsed = parseAggregate(className, findOptions(request), { maxDepth: request.caller.services.config.queryDepth });
    // A client's read: the read replica may serve it (`readReplicaURI`).
    return ok(await aggregate(request.caller, parsed, { replica: true }));
  });
}
