/**
 * The few typed errors the host raises. Every layer throws these; only rest/respond.ts turns them
 * into HTTP responses, through `statusOf` and `codeOf`. Each carries a stable `code` (README lists them) beside
 * its message, so clients and tests need not match the wording: the class gives a general one, a throw that
 * means something more precise names it.
 */
export class IgorError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Headers the answer carries (Retry-After, say). */
    readonly headers: Readonly<Record<string, string>> = {},
    readonly code: string = 'error',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is malformed: bad XPath, bad XML/JSON, a path that cannot be written. */
export class BadRequestError extends IgorError {
  constructor(message: string, code = 'bad_request') {
    super(message, 400, {}, code);
  }
}

export class NotFoundError extends IgorError {
  constructor(message: string, code = 'not_found') {
    super(message, 404, {}, code);
  }
}

export class MethodNotAllowedError extends IgorError {
  constructor(message: string, code = 'method_not_allowed') {
    super(message, 405, {}, code);
  }
}

export class NotAcceptableError extends IgorError {
  constructor(message: string, code = 'not_acceptable') {
    super(message, 406, {}, code);
  }
}

export class PayloadTooLargeError extends IgorError {
  constructor(message: string, code = 'too_large') {
    super(message, 413, {}, code);
  }
}

export class UnsupportedMediaTypeError extends IgorError {
  constructor(message: string, code = 'unsupported_media_type') {
    super(message, 415, {}, code);
  }
}

/** The database cannot take writes right now (read-only directory, store failed); reads still work. */
export class UnavailableError extends IgorError {
  constructor(message: string, code = 'unavailable') {
    super(message, 503, {}, code);
  }
}

/** The disk is full: the write was not made. */
export class InsufficientStorageError extends IgorError {
  constructor(message: string, code = 'disk_full') {
    super(message, 507, {}, code);
  }
}

/** An XPath expression that does not parse or cannot be evaluated. `position` is 0-based into `expression`. */
export class XPathError extends BadRequestError {
  constructor(
    readonly reason: string,
    readonly expression: string,
    readonly position?: number,
  ) {
    super(
      position === undefined
        ? `XPath error: ${reason} in ${expression}`
        : `XPath error: ${reason} at position ${position + 1}:\n${expression}\n${'-'.repeat(position)}^`,
      position === undefined ? 'xpath_error' : 'xpath_syntax',
    );
  }
}

/** The general code of each status (what a plugin's host.fail(status) answers with). */
export const CODE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'timeout',
  507: 'disk_full',
};

/** The stable code of any thrown value (what an error body says beside the message). */
export function codeOf(err: unknown): string {
  if (err instanceof IgorError) return err.code;
  const status = statusOf(err);
  return status === 500 ? 'internal' : status === 413 ? 'too_large' : 'bad_request';
}

/** HTTP status for any thrown value: ours carry one, anything else is a bug (500). */
export function statusOf(err: unknown): number {
  if (err instanceof IgorError) return err.status;
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status;
  // body-parser style errors (e.g. from express) carry their own 4xx status.
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}

/** Something we waited on (a flush, a plugin, an external service) did not finish in time. */
export class TimeoutError extends IgorError {
  constructor(message: string, code = 'timeout') {
    super(message, 504, {}, code);
  }
}

/** Who is asking is not known (no or bad credentials): log in or send credentials. */
export class UnauthorizedError extends IgorError {
  constructor(message: string, code = 'unauthorized') {
    super(message, 401, {}, code);
  }
}

/** Who is asking is known and may not do this. */
export class ForbiddenError extends IgorError {
  constructor(message: string, code = 'forbidden') {
    super(message, 403, {}, code);
  }
}

/** A service we called on the client's behalf (a plugin, a cloud API) failed. */
export class BadGatewayError extends IgorError {
  constructor(message: string, code = 'bad_gateway') {
    super(message, 502, {}, code);
  }
}

/** Too many attempts: try again after `retryAfterSeconds` (sent as Retry-After). */
export class TooManyRequestsError extends IgorError {
  constructor(message: string, retryAfterSeconds: number, code = 'too_many_requests') {
    super(message, 429, { 'Retry-After': String(retryAfterSeconds) }, code);
  }
}
