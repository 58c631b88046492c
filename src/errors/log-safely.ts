import type { Logger } from '../rest/services.ts';

/**
 * Logs a failure from a place where no one else would handle an error. The logger is the app's to
 * configure (and `err` may be any value cloud code threw, with getters that throw), so logging itself may
 * fail: that must never become a second, unhandled error.
 */
export function logSafely(log: Logger, level: 'error' | 'info', details: object, message: string): void {
  try {
    log[level](details, message);
  } catch {
    try {
      log[level]({}, message);
    } catch {
      // Nothing more can be done without risking the process.
    }
  }
}
