import { buildReport } from '../../audit/report.ts';
import { parseCheckShape } from '../../audit/parse-check-shape.ts';
import { assertSchemaAccess } from '../../rest/schemas.ts';
import { ok, type Router } from '../router.ts';

/**
 * `GET /security`: the audit of this running server, master key only (the read-only master key too: it
 * reads everything the report describes anyway). Parse Server answers 409 unless `security.enableCheck` is
 * set; Parsec always answers, since the report only describes what the master key can already see.
 */
export function registerSecurityRoute(router: Router): void {
  router.add('GET', '/security', (request) => {
    assertSchemaAccess(request.caller, false);
    const { config, cloud, plugins, schemas } = request.caller.services;
    const audit = buildReport({ config, registry: cloud.registry, plugins, schemas: schemas.all() });
    return Promise.resolve(ok({ report: parseCheckShape(audit), audit }));
  });
}
