// Generated from src/testing/capturedHttp.ts by `npm run types` (tools/types.js): do not edit.
/// <reference types="node" />
import type { HttpRequest, HttpResponse, Json } from '../plugin-api.js';
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
export declare class CapturedHttp {
    handler: HttpHandler;
    readonly requests: CapturedRequest[];
    constructor(handler?: HttpHandler);
    /** The function the host or a call uses to make a request. */
    sender(via: CapturedRequest['via']): (url: string, req?: HttpRequest) => Promise<HttpResponse>;
}
