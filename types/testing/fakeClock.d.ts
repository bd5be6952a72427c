// Generated from src/testing/fakeClock.ts by `npm run types` (tools/types.js): do not edit.
/// <reference types="node" />
/**
 * The test host's clock: it stands still until the test moves it on, and then runs each timer that falls due on
 * the way at its own time, in order, waiting for the work each one starts (a plugin's host.every handler, the
 * writes it makes, the onChange handlers those set off) before the next. Hand-written rather than
 * @sinonjs/fake-timers: that one yields only to the microtask queue between timers, while a handler's writes wait
 * for the disk, so the next timer would run before the last one's work had ended.
 */
import type { Clock } from '../clock.js';
/** The clock of a test host: host.every and the plugin's storeSeries `keep` go by it. */
export interface TestClock {
    /** Milliseconds since 1970 on this clock. */
    now(): number;
    /** Moves the clock on by `ms`, running what falls due on the way, each at its time, and waiting for its work. */
    advance(ms: number): Promise<void>;
    /** Moves the clock on to `when` (a Date, or milliseconds since 1970), as advance does. */
    advanceTo(when: Date | number): Promise<void>;
}
export declare class FakeClock implements Clock, TestClock {
    private time;
    /** Waits until the work timers started has ended. */
    private readonly settle;
    private timers;
    private made;
    constructor(time: number, 
    /** Waits until the work timers started has ended. */
    settle: () => Promise<void>);
    now(): number;
    after(ms: number, run: () => void): () => void;
    advance(ms: number): Promise<void>;
    advanceTo(when: Date | number): Promise<void>;
    private nextDue;
}
