import { sendPush } from '../../push/send-push.ts';
import type { Router } from '../router.ts';

/** `POST /push` (master key only): answers `{result: true}` and the `_PushStatus` id once the push is recorded. */
export function registerPushRoute(router: Router): void {
  router.add('POST', '/push', async (request) => {
    const statusId = await sendPush(request.caller, request.body);
    return { status: 200, body: { result: true }, headers: { 'X-Parse-Push-Status-Id': statusId } };
  });
}
