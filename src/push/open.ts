import { DEFAULT_PUSH_SEND_TIMEOUT_MS } from '../config/push-option.ts';
import { openPushAdapter, type PushOption } from './adapter.ts';
import type { PushService } from './deliver.ts';

/** The server's push service from its `push` option, or undefined when none is configured. */
export async function openPushService(option: PushOption | undefined, cwd: string): Promise<PushService | undefined> {
  const adapter = await openPushAdapter(option, cwd);
  if (adapter === undefined || option === undefined) return undefined;
  return { adapter, sendTimeoutMs: option.sendTimeoutMs ?? DEFAULT_PUSH_SEND_TIMEOUT_MS };
}
