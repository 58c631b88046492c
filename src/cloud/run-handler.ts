import type { ErrorCodeValue } from '../errors/codes.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Caller } from '../rest/services.ts';
export { logSafely } from '../errors/log-safely.ts';
import { activeScope, type ParseSdk } from './sdk.ts';

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCode));

/**
 * What a handler threw, as the Parse error the client gets: a `Parse.Error` (from any copy of the SDK, or
 * ours) keeps its code and message; a string or any other Error is 141 with its message — never a stack.
 * A code outside Parse's table (e.g. an HTTP status) becomes 141 too, so cloud code cannot produce a 5xx.
 */
export function toParseError(thrown: unknown, fallbackCode: number = ErrorCode.SCRIPT_FAILED): ParseError {
  try {
    return describe(thrown, fallbackCode);
  } catch {
    // A thrown value whose properties or toString throw when read.
    return new ParseError(fallbackCode as ErrorCodeValue, 'Script failed.');
  }
}

function describe(thrown: unknown, fallbackCode: number): ParseError {
  if (thrown instanceof ParseError) return thrown;
  // `throw null`, `throw 0`, `Promise.reject()`: nothing to report but the failure (Parse's words).
  if (thrown === null || thrown === undefined || thrown === '' || thrown === 0 || thrown === false) {
    return new ParseError(fallbackCode as ErrorCodeValue, 'Script failed.');
  }
  if (typeof thrown === 'string') return new ParseError(fallbackCode as ErrorCodeValue, thrown);
  if (typeof thrown === 'object') {
    const { code, message } = thrown as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : 'Script failed.';
    if (typeof code === 'number' && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) return new ParseError(code as ErrorCodeValue, text);
    return new ParseError(fallbackCode as ErrorCodeValue, text);
  }
  const shown = typeof thrown === 'number' || typeof thrown === 'boolean' || typeof thrown === 'bigint' ? String(thrown) : 'Script failed.';
  return new ParseError(fallbackCode as ErrorCodeValue, shown);
}

/**
 * Runs cloud code on behalf of `caller`, in its scope (so `Parse` is this server's SDK and acts as the
 * caller), with the configured time limit. A handler past the limit is answered with 124 and left to finish
 * on its own (JavaScript cannot stop it); its later result or error is dropped, never unhandled. Work that
 * finishes synchronously (a plain handler behind a synchronous validator) cannot be late, so it is answered
 * without setting a timer or racing promises: most functions are that, and each promise costs a hook
 * under Node 20's AsyncLocalStorage.
 */
export function runInScope<T, A = undefined>(
  sdk: ParseSdk,
  caller: Caller | undefined,
  origin: string,
  timeoutMs: number,
  work: (argument: A) => T | PromiseLike<T>,
  argument?: A,
): Promise<T> {
  let running: T | PromiseLike<T>;
  try {
    running = activeScope.run({ sdk, caller, origin }, work, argument as A);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what the handler threw, passed on as is (callers make it a Parse error)
    return Promise.reject(error);
  }
  if (!isThenable(running)) return Promise.resolve(running);
  const pending = running;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new ParseError(ErrorCode.TIMEOUT, `Cloud code did not finish within ${timeoutMs} ms.`));
    }, timeoutMs);
    // Settling an already timed-out promise is a no-op: the late result or error is dropped here.
    Promise.resolve(pending).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- as above
        reject(error);
      },
    );
  });
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
