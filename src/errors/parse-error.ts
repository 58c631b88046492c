import { ErrorCode, httpStatusForCode, type ErrorCodeValue } from './codes.ts';

/** The only error type project code throws for an answer the client should see. */
export class ParseError extends Error {
  readonly code: ErrorCodeValue;
  constructor(code: ErrorCodeValue, message: string) {
    super(message);
    this.name = 'ParseError';
    this.code = code;
  }
  get status(): number {
    return httpStatusForCode(this.code);
  }
  toJSON(): { code: number; error: string } {
    return { code: this.code, error: this.message };
  }
}

/**
 * Failures Parse answers without a Parse code, e.g. 403 `{"error":"unauthorized"}` for a wrong app id or
 * a master key from a disallowed address. The body shape must match byte for byte.
 */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
  toJSON(): { error: string } {
    return { error: this.message };
  }
}

export const unauthorized = (): HttpError => new HttpError(403, 'unauthorized');
export const masterKeyRequired = (): HttpError => new HttpError(403, 'unauthorized: master key is required');

export const INTERNAL_MESSAGE = 'An internal server error occurred';
export const internalError = (): ParseError => new ParseError(ErrorCode.INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE);

export { ErrorCode };
