import { ErrorCode, masterKeyRequired, ParseError } from '../../errors/parse-error.ts';
import { readConfigChange } from '../../global-config/config-change.ts';
import { readGlobalConfig, updateGlobalConfig } from '../../global-config/config-store.ts';
import { ok, type Router } from '../router.ts';

/**
 * `GET /config`: the params, without the master-only ones unless the caller holds the master key (or the
 * read-only master key), which also gets `masterKeyOnly`. `PUT /config`: the master key only.
 */
export function registerConfigRoutes(router: Router): void {
  router
    .add('GET', '/config', async (request) => {
      const { auth, services } = request.caller;
      const config = await readGlobalConfig(services.driver);
      if (auth.kind === 'master' || auth.kind === 'readOnlyMaster') {
        return ok({ params: config.params, masterKeyOnly: Object.fromEntries([...config.masterKeyOnly].map((name) => [name, true])) });
      }
      const params = Object.fromEntries(Object.entries(config.params).filter(([name]) => !config.masterKeyOnly.has(name)));
      return ok({ params });
    })
    .add('PUT', '/config', async (request) => {
      const { auth, services } = request.caller;
      if (auth.kind === 'readOnlyMaster') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to update the config.");
      if (auth.kind !== 'master') throw masterKeyRequired();
      await updateGlobalConfig(services.driver, readConfigChange(request.body));
      return ok({ result: true });
    });
}
