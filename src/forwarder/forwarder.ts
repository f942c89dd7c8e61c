/**
 * The forwarder: takes due messages from the queue and delivers each to Distinct, applying the
 * DESIGN §6 policy (retry-policy.ts) to every answer.
 *
 * - Bounded: it holds at most 6 × `concurrency` leased messages (in flight, delivered and waiting
 *   for their settle write, or claimed ahead; 3 × without claiming ahead), so memory stays flat
 *   whatever the backlog (DESIGN §7); an optional token bucket caps requests per second.
 * - Claims ahead: up to 3 × `concurrency` claimed messages wait in a local buffer, refilled in one
 *   claim when it falls to `concurrency`, so a freed slot starts its next request at once and
 *   claims are few and large. Buffered messages are released (attempts unchanged) on stop and
 *   when the circuit opens. Off for SQS (`claimAhead: 0`), whose leases expire while they wait,
 *   and with a shared key store (`dedupe.store`), whose delivery claims do too.
 * - Settles deliveries together: a delivered message's `complete` waits (at most 2 × `concurrency`
 *   of them, at most HOLD_MS) for the next claim, so both go into one queue write. The HTTP slot is
 *   already free by then; a crash in that window re-sends with the same Idempotency-Key.
 * - Event-driven: it wakes when the queue reports new messages, when the buffer runs low, and on a
 *   timer set from `queue.nextDueInMs()` (capped, so a missed signal never stalls it for long).
 * - Circuit breaker: a 401/403 means the key or the IP allowlist is wrong, and every other request
 *   would fail the same way. Sending stops, messages go back untouched (attempts unchanged), `/status`
 *   and the `circuit_open` gauge report it (receiving goes on: `/readyz` stays 200), and one real message is sent as a probe every `probeIntervalMs`; the
 *   first probe Distinct does not reject closes the circuit again.
 * - `stop()` loses nothing: requests in flight finish and are settled, claimed messages that were
 *   not sent yet (buffered, or waiting for a rate-limit token) are released.
 * - A settle write that fails (disk full, I/O error) is not dropped: the lease stays ours and the
 *   same write (complete, retry, release, dead-letter) is tried again on every wake, at most
 *   `maxIdleMs` apart, before anything new is claimed, so the messages leave "in flight" as soon as
 *   the queue takes writes again, without a restart and without sending them twice.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics';
import type { DeliveryObserver } from '../observability/observers';
import type { Lease, Queue } from '../queue/queue';
import type { ForwardOutcome } from '../core/distinct-api';
import type { DistinctSender } from './distinct-client';
import { Circuit, type CircuitState } from './circuit';
import { RateLimiter } from './rate-limiter';
import type { RetryPolicy, RetryPolicyConfig } from './retry-policy';
import { unsendable } from './settle-policy';
import { Settler } from './settler';
import { SettleWrites } from './settle-writes';
import { Semaphore } from './semaphore';

export interface ForwarderOptions {
  queue: Queue;
  client: DistinctSender;
  /** The `retry` configuration section. */
  retry: RetryPolicyConfig;
  /** The `circuit` configuration section. */
  circuit: { probeIntervalMs: number };
  /** Requests in flight at most (`distinct.concurrency`). */
  concurrency: number;
  /** Requests per second at most; 0 = unlimited (`distinct.ratePerSecond`). */
  ratePerSecond: number;
  logger: Logger;
  metrics: Metrics;
  /** Clock, ms since epoch (retry decisions, probe schedule). */
  now?: () => number;
  /** Random source in [0, 1) for backoff jitter. */
  random?: () => number;
  /** Longest sleep between queue checks (default 1000 ms). */
  maxIdleMs?: number;
  /**
   * Claimed messages kept ready beyond those in flight, as a multiple of `concurrency` (default
   * 3); 0 claims only for free slots. Use 0 for a queue whose leases expire (SQS visibility).
   */
  claimAhead?: number;
  /** Told of every delivery outcome (the operator's recent deliveries and counts; /status, /console). */
  observer?: DeliveryObserver;
}

/** The forwarder's own readiness (circuit closed); `/readyz` reports it but does not fail on it. */
export interface ForwarderReadiness {
  /** False while Distinct rejects our credentials (circuit open). */
  ready: boolean;
  circuitOpen: boolean;
  running: boolean;
  /** Why it is not ready. */
  reason?: string;
}

/** Shortest timer, so a driver that reports "due now" without handing the message out cannot spin the CPU. */
const MIN_TIMER_MS = 2;
/** Default `claimAhead`. */
const AHEAD_FACTOR = 3;
/** Delivered messages whose `complete` may wait for the next claim, as a multiple of `concurrency`. */
const HOLD_FACTOR = 2;

/** Delivers queued events to Distinct. */
export class Forwarder {
  private readonly queue: Queue;
  private readonly client: DistinctSender;
  private readonly policy: RetryPolicy;
  private readonly circuit: Circuit;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly now: () => number;
  private readonly maxIdleMs: number;
  private readonly slots: Semaphore;
  private readonly limiter: RateLimiter;
  /** Claimed messages not yet sent, oldest first. */
  private readonly ahead: Lease[] = [];
  private readonly aheadMax: number;
  /** The buffer is refilled when it holds no more than this. */
  private readonly aheadLow: number;
  private readonly leasedMax: number;
  /** Leases we hold: buffered, in flight or being settled. */
  private leased = 0;
  /** Deliveries and releases not finished yet; stop() waits for them. */
  private active = 0;
  private onIdle: (() => void) | null = null;
  /** Settle writes: held completes and the writes the queue refused (see the file header). */
  private readonly writes: SettleWrites;

  private running = false;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private stopping: Promise<void> | null = null;
  /** Aborted when sending must stop (shutdown, circuit opening): rate-limit waits end and their messages go back. */
  private gate = new AbortController();
  /** What each answer means, and its queue write (settler.ts). */
  private readonly settler: Settler;
  private probeInFlight = false;

  constructor(options: ForwarderOptions) {
    this.queue = options.queue;
    this.client = options.client;
    this.policy = { ...options.retry, random: options.random };
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.now = options.now ?? Date.now;
    this.circuit = new Circuit(options.circuit.probeIntervalMs, this.logger, this.now);
    this.maxIdleMs = options.maxIdleMs ?? 1000;
    this.slots = new Semaphore(options.concurrency);
    const ahead = options.claimAhead ?? AHEAD_FACTOR;
    this.aheadMax = ahead * options.concurrency;
    this.aheadLow = ahead > 0 ? options.concurrency : 0;
    this.writes = new SettleWrites(this.queue, this.logger, HOLD_FACTOR * options.concurrency, {
      // A refused write keeps its lease ours (counted, so claiming stops when too many wait) and
      // brings the pump back to try it again.
      refused: () => {
        this.leased += 1;
        if (this.running && !this.timer) void this.schedule(true);
      },
      recorded: () => {
        this.leased -= 1;
      },
    });
    // All leases held at once: in flight, held for settling, buffered.
    this.leasedMax = (1 + HOLD_FACTOR + ahead) * options.concurrency;
    this.limiter = new RateLimiter({ ratePerSecond: options.ratePerSecond });
    this.metrics.circuitOpen.set(0);
    this.settler = new Settler({
      queue: this.queue,
      writes: this.writes,
      circuit: this.circuit,
      policy: this.policy,
      logger: this.logger,
      metrics: this.metrics,
      now: this.now,
      observer: options.observer,
      openCircuit: (outcome) => this.openCircuit(outcome),
      running: () => this.running,
    });
  }

  /** Starts delivering; idempotent. */
  start(): void {
    if (this.running) return;
    if (this.stopping) throw new Error('forwarder is stopping; await stop() before starting it again');
    this.running = true;
    this.gate = new AbortController();
    this.unsubscribe = this.queue.onEnqueued(() => this.wake());
    this.wake();
  }

  /**
   * Stops claiming, lets requests in flight finish and settles them in the queue, and releases
   * messages that were claimed but not sent. Resolves when nothing of ours is left in flight.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.running) return Promise.resolve();
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.gate.abort();
    this.writes.flushHeld();
    this.stopping = (async () => {
      if (this.pumping) await this.pumping;
      this.releaseAhead();
      while (this.active > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
      if (this.writes.refusedCount > 0 && !(await this.writes.retryRefused())) {
        this.logger.error(
          { messages: this.writes.refusedCount },
          'forwarder stopped with unrecorded outcomes; those messages stay in flight until the queue is opened again',
        );
      }
    })().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  /** True while Distinct rejects our credentials (401/403) and sending is paused. */
  isCircuitOpen(): boolean {
    return this.circuit.isOpen();
  }

  /** The forwarder's readiness: not ready while the circuit is open (ingestion is unaffected). */
  readiness(): ForwarderReadiness {
    const circuitOpen = this.isCircuitOpen();
    return circuitOpen
      ? {
          ready: false,
          circuitOpen,
          running: this.running,
          reason: 'Distinct rejected the API key or this IP (HTTP 401/403); forwarding is paused',
        }
      : { ready: true, circuitOpen, running: this.running };
  }

  /** Circuit state, since when, and Distinct's last answer (`/status`, the console). */
  circuitState(): CircuitState {
    return this.circuit.state();
  }

  /** Requests in flight (claimed messages being sent or waiting for a rate-limit token). */
  get inFlight(): number {
    return this.slots.inUse;
  }

  private wake(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
    });
  }

  private async pump(): Promise<void> {
    let failed = false;
    do {
      this.pumpAgain = false;
      try {
        // Refused settle writes first (no await on the common path, where there are none).
        if (this.writes.refusedCount > 0 && !(await this.writes.retryRefused())) failed = true;
        else await this.fill();
      } catch (err) {
        failed = true;
        this.logger.error({ err }, 'forwarder could not claim from the queue; will try again');
      }
      await this.schedule(failed);
      // A wake that arrived while we were busy asked for one more pass; after a queue error the
      // timer alone brings us back, so a broken queue is not hammered.
    } while (this.pumpAgain && this.running && !failed);
  }

  /**
   * Keeps the buffer of claimed messages topped up and the slots busy (or sends one probe while
   * the circuit is open). Claims only when the buffer has fallen to `aheadLow`, and never beyond
   * the lease bound.
   */
  private async fill(): Promise<void> {
    while (this.running) {
      if (this.isCircuitOpen()) {
        if (this.probeInFlight || this.circuit.holdsBack() || !this.slots.tryAcquire()) return;
        let leases: Lease[];
        try {
          this.writes.flushHeld();
          leases = await this.queue.claim(1);
        } catch (err) {
          this.slots.release();
          throw err;
        }
        const lease = leases[0];
        if (!lease) {
          this.slots.release();
          return;
        }
        this.leased += 1;
        if (!this.running) {
          await this.settler.release(lease);
          this.leased -= 1;
          this.slots.release();
          return;
        }
        this.probeInFlight = true;
        this.active += 1;
        void this.deliver(lease, true);
        return;
      }
      this.startAhead();
      if (this.ahead.length > this.aheadLow) return;
      const want = Math.min(this.slots.available + this.aheadMax - this.ahead.length, this.leasedMax - this.leased);
      if (want <= 0) return;
      this.writes.flushHeld();
      const leases = await this.queue.claim(want);
      this.leased += leases.length;
      for (const lease of leases) this.ahead.push(lease);
      if (!this.running || this.isCircuitOpen()) {
        // Sending stopped while we claimed: hand them straight back.
        this.releaseAhead();
        continue;
      }
      this.startAhead();
      if (leases.length < want) return;
    }
  }

  /** Starts buffered messages on free slots. */
  private startAhead(): void {
    while (this.ahead.length > 0 && this.running && !this.isCircuitOpen() && this.slots.tryAcquire()) {
      this.active += 1;
      void this.deliver(this.ahead.shift() as Lease, false);
    }
  }

  /** After a slot or a lease came free: starts what is buffered, and wakes the pump when the buffer runs low. */
  private dispatch(): void {
    this.startAhead();
    if (this.ahead.length <= this.aheadLow) this.wake();
  }

  /** Hands every buffered message back untouched (stop, circuit opening); tracked like a delivery. */
  private releaseAhead(): void {
    for (const lease of this.ahead.splice(0)) {
      this.active += 1;
      void this.settler.release(lease).finally(() => {
        this.leased -= 1;
        this.finished();
      });
    }
  }

  /** One delivery or release is done; stop() may be waiting for the last one. */
  private finished(): void {
    this.active -= 1;
    if (this.active === 0 && this.onIdle) {
      const resolve = this.onIdle;
      this.onIdle = null;
      resolve();
    }
  }

  /** Sets the wake-up timer: next due message or next probe, never longer than maxIdleMs (exactly that after a queue error). */
  private async schedule(afterError = false): Promise<void> {
    if (!this.running) return;
    let delay = this.maxIdleMs;
    const untilProbe = this.circuit.nextProbeAt - this.now();
    if (afterError) {
      // Wait the full idle period before touching the queue again.
    } else if (this.isCircuitOpen() && this.probeInFlight) {
      // The probe's completion wakes us.
    } else if (this.isCircuitOpen() && untilProbe > 0) {
      delay = Math.min(delay, untilProbe);
    } else if (this.slots.available > 0 && this.ahead.length === 0) {
      try {
        const next = await this.queue.nextDueInMs();
        if (next !== null) delay = Math.min(delay, next);
      } catch (err) {
        this.logger.error({ err }, 'forwarder could not read the queue schedule');
      }
    }
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.wake();
      },
      Math.max(MIN_TIMER_MS, delay),
    );
    // The HTTP server keeps the process alive; an idle forwarder alone should not.
    this.timer.unref();
  }

  /** Sends one message and settles it; always frees its slot and its lease. Never rejects. */
  private async deliver(lease: Lease, probe: boolean): Promise<void> {
    const gate = this.gate.signal;
    let slotFreed = false;
    try {
      const { event } = lease.message;
      const refused = unsendable(lease);
      if (refused) {
        await this.settler.deadLetter(lease, refused.reason, refused.detail);
        return;
      }
      // Without a rate limit there is no token to wait for: skip the promise.
      const allowed = this.limiter.unlimited ? !gate.aborted : await this.limiter.acquire(gate);
      if (!allowed || !this.running || (this.isCircuitOpen() && !probe)) {
        await this.settler.release(lease);
        return;
      }
      const started = performance.now();
      const outcome = await this.client.send(event, lease.message.key);
      const seconds = (performance.now() - started) / 1000;
      this.metrics.forwardAttempts.inc({ result: outcome.kind });
      this.metrics.forwardLatency.observe({ result: outcome.kind }, seconds);
      if (outcome.kind === 'ok' && !probe) {
        // Distinct has the event: recording that is a queue write, which need not hold an HTTP
        // slot. The delivery stays counted until settled, so stop() still waits for the write.
        // Settling first holds the complete before dispatch() may claim, so both share a write.
        slotFreed = true;
        this.slots.release();
        const settled = this.settler.settle(lease, outcome, probe, seconds);
        this.dispatch();
        await settled;
      } else {
        await this.settler.settle(lease, outcome, probe, seconds);
      }
    } catch (err) {
      this.logger.error(
        { err, key: lease.message.key },
        'forwarder failed to settle a message; it stays in flight until the queue recovers it',
      );
    } finally {
      if (probe) this.probeInFlight = false;
      if (!slotFreed) this.slots.release();
      this.leased -= 1;
      this.finished();
      if (probe) this.wake();
      else this.dispatch();
    }
  }

  private openCircuit(outcome: ForwardOutcome): void {
    if (!this.circuit.open(outcome)) return;
    this.metrics.circuitOpen.set(1);
    // Buffered messages and those waiting for a rate-limit token go back at once; a fresh gate
    // serves the probes.
    this.releaseAhead();
    this.gate.abort();
    this.gate = new AbortController();
  }
}
