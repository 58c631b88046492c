/**
 * `promise`, or a rejection with `message` once `ms` have passed: for calls to a server that may stop
 * answering without closing anything (a replica, Redis), which would otherwise hold their caller until the
 * operating system gives up on the connection. The timer is cleared either way; the late answer is dropped.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
