import { ErrorCode, HttpError, internalError, ParseError } from '../errors/parse-error.ts';
import { sqlState } from '../storage/driver.ts';

/** Database failures a client can cause with valid-looking input get their Parse code; the rest are internal. */
const DATABASE_ERRORS = new Map<string, () => ParseError>([
  ['23505', () => new ParseError(ErrorCode.DUPLICATE_VALUE, 'A duplicate value for a field with unique values was provided')],
  ['2201B', () => new ParseError(ErrorCode.INVALID_QUERY, 'Invalid regular expression.')],
  ['57014', () => new ParseError(ErrorCode.TIMEOUT, 'The query took too long and was stopped.')],
  ['54001', () => new ParseError(ErrorCode.INVALID_QUERY, 'The query is too complex.')],
  ['22003', () => new ParseError(ErrorCode.INVALID_QUERY, 'A value in the query is out of range.')],
  ['40P01', () => new ParseError(ErrorCode.INTERNAL_SERVER_ERROR, 'The request conflicted with another one; retry it.')],
]);

export interface InternalErrorLog {
  (error: unknown): void;
}

/** Every thrown value becomes an answer with no database text or stack; internal causes go to the log. */
export function translateError(error: unknown, logInternal: InternalErrorLog): ParseError | HttpError {
  if (error instanceof ParseError || error instanceof HttpError) return error;
  const state = sqlState(error);
  const known = state === undefined ? undefined : DATABASE_ERRORS.get(state);
  if (known !== undefined) return known();
  logInternal(error);
  return internalError();
}

/** The error body of a `/batch` entry: Parse's `{code, error}` for every kind of failure. */
export function toErrorBody(error: unknown, logInternal: InternalErrorLog = () => undefined): { code: number; error: string } {
  const translated = translateError(error, logInternal);
  if (translated instanceof ParseError) return translated.toJSON();
  return { code: translated.status === 403 ? ErrorCode.OPERATION_FORBIDDEN : ErrorCode.INVALID_JSON, error: translated.message };
}
