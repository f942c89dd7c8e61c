/**
 * The `/status` document's shape (DESIGN §5): built by src/runtime/status.ts, shown by the
 * operator console and printed by `distinct-adapter status`. No personal data: counts, reasons,
 * provider event names and Distinct's (redacted) message only.
 */
import type { SourceTotals } from './activity';

export interface StatusDocument {
  /** True from a running process; false when `status` read the queue file because none answered. */
  running: boolean;
  version: string;
  /** ISO time this process started; null when not running. */
  startedAt: string | null;
  /** `serve`, `serve --no-forward`, `forward`, or `offline`. */
  role: 'serve' | 'serve --no-forward' | 'forward' | 'offline';
  /** Can accept and durably queue (what `/readyz` answers). */
  ready: boolean;
  queue: {
    driver: string;
    depth: number;
    inFlight: number;
    oldestAgeSeconds: number;
    deadLetters: number;
    /** Empty for drivers that cannot count by reason cheaply (SQS). */
    deadLettersByReason: Record<string, number>;
  };
  circuit: {
    state: 'closed' | 'open';
    /** ISO time the current state began; null without a forwarder in this process. */
    since: string | null;
    /** Distinct's last HTTP status (null: none yet, timeout or network error). */
    lastStatus: number | null;
    lastMessage: string | null;
    lastAnswerAt: string | null;
    /** While open: when the next probe is due. */
    nextProbeAt: string | null;
    /** While open: why forwarding is paused, in words; null when closed. */
    reason: string | null;
  };
  /** This process forwards (has a forwarder). */
  forwarding: boolean;
  /** Per configured source, totals since start (empty when not running, or in `forward`). */
  sources: Record<string, SourceTotals>;
  /** Events Distinct accepted since start (this process). */
  forwarded: number;
}
