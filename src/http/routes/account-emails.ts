import { secretEquals } from '../../auth/authenticate.ts';
import { HttpError } from '../../errors/parse-error.ts';
import { requestPasswordReset, requestVerificationEmail, resetPassword, verifyEmail } from '../../users/account-emails.ts';
import { ok, type ApiRequest, type Router } from '../router.ts';
import { findOptions } from './classes.ts';

/** The `/apps/:appId/…` links from account emails carry no keys: the token is the credential. */
function assertApp(request: ApiRequest, appId: string | undefined): void {
  if (!secretEquals(appId, request.caller.services.config.appId)) throw new HttpError(404, 'Not found');
}

export function registerAccountEmailRoutes(router: Router): void {
  router
    .add('POST', '/requestPasswordReset', async (request) => ok(await requestPasswordReset(request.caller, request.body, request.caller.services.mail)))
    .add('POST', '/verificationEmailRequest', async (request) =>
      ok(await requestVerificationEmail(request.caller, request.body, request.caller.services.mail)),
    )
    .add('POST', '/apps/:appId/request_password_reset', async (request, { appId }) => {
      assertApp(request, appId);
      return ok(await resetPassword(request.caller.services, findOptions(request)));
    })
    .add('GET', '/apps/:appId/verify_email', async (request, { appId }) => {
      assertApp(request, appId);
      return ok(await verifyEmail(request.caller.services, findOptions(request).token));
    });
}

/** Paths that authenticate with a token in the request instead of application keys. */
export const isTokenLinkPath = (path: string): boolean => /^\/apps\//.test(path);
