/**
 * The test host's HTTP: no request leaves the process. Each one the plugin makes (host.http, its OAuth2 client,
 * call.http) is recorded and answered by the handler the test gives; a handler that throws is a request that
 * failed to connect, as a server that cannot be reached would be.
 */
import { ConnectionError } from '../http/client.ts';
import type { HttpRequest, HttpResponse, Json } from '../plugin-api.ts';
import { lowerCaseNames } from './headers.ts';

/** A request the plugin made, as recorded. */
export interface CapturedRequest {
  url: string;
  method: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body as text (UTF-8), if it had one. */
  body?: string;
  /** host.http (or the plugin's OAuth2 client) for its own work, or call.http for a caller. */
  via: 'host' | 'call';
}

/** How a handler answers: a status (200), headers, and a body, which is sent as JSON unless it is text. */
export interface HttpAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Json;
}

/** Answers the plugin's requests; throw to make one fail as an unreachable server does. */
export type HttpHandler = (request: CapturedRequest) => HttpAnswer | Promise<HttpAnswer>;

const noHandler: HttpHandler = (request) => {
  throw new ConnectionError(`${request.method} ${request.url}: no server here (give createTestHost an http handler that answers it)`);
};

export class CapturedHttp {
  readonly requests: CapturedRequest[] = [];

  constructor(public handler: HttpHandler = noHandler) {}

  /** The function the host or a call uses to make a request. */
  sender(via: CapturedRequest['via']): (url: string, req?: HttpRequest) => Promise<HttpResponse> {
    return async (url, req = {}) => {
      const headers = lowerCaseNames(req.headers ?? {});
      const body = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : Buffer.from(req.body).toString('utf8');
      const request: CapturedRequest = {
        url,
        method: (req.method ?? 'GET').toUpperCase(),
        headers,
        ...(body === undefined ? {} : { body }),
        via,
      };
      this.requests.push(request);
      const answer = await this.handler(request);
      const isText = typeof answer.body === 'string' || answer.body === undefined;
      const answerHeaders = new Headers(isText ? answer.headers : { 'content-type': 'application/json', ...answer.headers });
      return {
        status: answer.status ?? 200,
        headers: answerHeaders,
        body: isText ? ((answer.body as string | undefined) ?? '') : JSON.stringify(answer.body),
      };
    };
  }
}
