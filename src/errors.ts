/**
 * The few typed errors the host raises. Every layer throws these; only rest/respond.ts turns them
 * into HTTP responses, through `statusOf`.
 */
export class IgorError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Headers the answer carries (Retry-After, say). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is malformed: bad XPath, bad XML/JSON, a path that cannot be written. */
export class BadRequestError extends IgorError {
  constructor(message: string) {
    super(message, 400);
  }
}

export class NotFoundError extends IgorError {
  constructor(message: string) {
    super(message, 404);
  }
}

export class MethodNotAllowedError extends IgorError {
  constructor(message: string) {
    super(message, 405);
  }
}

export class NotAcceptableError extends IgorError {
  constructor(message: string) {
    super(message, 406);
  }
}

export class PayloadTooLargeError extends IgorError {
  constructor(message: string) {
    super(message, 413);
  }
}

export class UnsupportedMediaTypeError extends IgorError {
  constructor(message: string) {
    super(message, 415);
  }
}

/** The database cannot take writes right now (read-only directory, store failed); reads still work. */
export class UnavailableError extends IgorError {
  constructor(message: string) {
    super(message, 503);
  }
}

/** The disk is full: the write was not made. */
export class InsufficientStorageError extends IgorError {
  constructor(message: string) {
    super(message, 507);
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
    );
  }
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
  constructor(message: string) {
    super(message, 504);
  }
}

/** Who is asking is not known (no or bad credentials): log in or send credentials. */
export class UnauthorizedError extends IgorError {
  constructor(message: string) {
    super(message, 401);
  }
}

/** Who is asking is known and may not do this. */
export class ForbiddenError extends IgorError {
  constructor(message: string) {
    super(message, 403);
  }
}

/** A service we called on the client's behalf (a plugin, a cloud API) failed. */
export class BadGatewayError extends IgorError {
  constructor(message: string) {
    super(message, 502);
  }
}

/** Too many attempts: try again after `retryAfterSeconds` (sent as Retry-After). */
export class TooManyRequestsError extends IgorError {
  constructor(message: string, retryAfterSeconds: number) {
    super(message, 429, { 'Retry-After': String(retryAfterSeconds) });
  }
}
