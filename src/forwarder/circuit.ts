/**
 * The circuit breaker both forwarders share (the long-running one and the SQS Lambda): a 401/403
 * means the key or the IP allowlist is wrong, and every other request would fail the same way.
 * While it is open nothing is sent but one probe per `probeIntervalMs`; the first answer Distinct
 * does not reject closes it again. What "sending nothing" means is the caller's (messages released
 * untouched, records reported failed); this holds the state, the probe schedule and the log lines.
 */
import type { ForwardOutcome } from '../core/distinct-api';
import type { Logger } from '../observability/logger';
import { CIRCUIT_CLOSED, CIRCUIT_OPENED } from './delivery-log';

/** The circuit as `/status` and the console report it. */
export interface CircuitState {
  state: 'closed' | 'open';
  /** When the current state began, ms since epoch. */
  since: number;
  /** Distinct's last answer: HTTP status (null: timeout or network error) and message; null before the first. */
  lastStatus: number | null;
  lastMessage: string | null;
  lastAnswerAt: number | null;
  /** While open: when the next probe is due, ms since epoch. */
  nextProbeAt: number | null;
}

export class Circuit {
  private openSince: number | null = null;
  /** When the circuit last changed state (or was built). */
  private since: number;
  private nextProbe = 0;
  private lastAnswer: ForwardOutcome | null = null;
  private lastAnswerTime: number | null = null;

  constructor(
    private readonly probeIntervalMs: number,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.since = now();
  }

  /** True while Distinct rejects our credentials (401/403) and sending is paused. */
  isOpen(): boolean {
    return this.openSince !== null;
  }

  /** When the next probe is due (ms since epoch; 0 before the circuit first opened). */
  get nextProbeAt(): number {
    return this.nextProbe;
  }

  /** Open, and the next probe not due yet: send nothing at all. */
  holdsBack(): boolean {
    return this.openSince !== null && this.now() < this.nextProbe;
  }

  /** Records Distinct's answer for {@link state}. */
  answered(outcome: ForwardOutcome): void {
    this.lastAnswer = outcome;
    this.lastAnswerTime = this.now();
  }

  /** When Distinct last answered (ms since epoch), null before the first answer. */
  get lastAnswerAt(): number | null {
    return this.lastAnswerTime;
  }

  /**
   * Distinct rejected our credentials: a closed circuit opens (logged; true), the next probe an
   * interval away. With `again`, an open one is reported again and waits another interval.
   */
  open(outcome: ForwardOutcome, again = false): boolean {
    const opening = this.openSince === null;
    if (!opening && !again) return false;
    if (opening) {
      this.openSince = this.now();
      this.since = this.openSince;
    }
    this.nextProbe = this.now() + this.probeIntervalMs;
    this.logger.error(
      { status: outcome.status, error: outcome.message, probeIntervalMs: this.probeIntervalMs },
      CIRCUIT_OPENED,
    );
    return opening;
  }

  /** Pushes the next probe an interval away (a rejection while sending is held back). */
  deferProbe(): void {
    this.nextProbe = this.now() + this.probeIntervalMs;
  }

  /** A probe was rejected: forwarding stays paused for another interval. */
  probeRejected(outcome: ForwardOutcome): void {
    this.deferProbe();
    this.logger.debug({ status: outcome.status }, 'circuit probe rejected; forwarding stays paused');
  }

  /** Distinct took a request: an open circuit closes (logged; true). */
  close(outcome: ForwardOutcome): boolean {
    if (this.openSince === null) return false;
    const pausedMs = this.now() - this.openSince;
    this.openSince = null;
    this.since = this.now();
    this.logger.info({ status: outcome.status, pausedMs }, CIRCUIT_CLOSED);
    return true;
  }

  /** Circuit state, since when, and Distinct's last answer (`/status`, the console). */
  state(): CircuitState {
    const open = this.openSince !== null;
    return {
      state: open ? 'open' : 'closed',
      since: this.since,
      lastStatus: this.lastAnswer ? this.lastAnswer.status : null,
      lastMessage: this.lastAnswer ? this.lastAnswer.message : null,
      lastAnswerAt: this.lastAnswerTime,
      nextProbeAt: open ? this.nextProbe : null,
    };
  }
}
