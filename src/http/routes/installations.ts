import { INSTALLATION_CLASS } from '../../installations/installation-class.ts';
import type { Router } from '../router.ts';
import { registerObjectRoutes } from './classes.ts';

/** Parse's REST alias for `_Installation`: the same pipeline and plugin as `/classes/_Installation`. */
export function registerInstallationRoutes(router: Router): void {
  registerObjectRoutes(router, '/installations', INSTALLATION_CLASS);
}
