/**
 * The `/status` document (DESIGN §5), served by `serve` and `forward` and printed by
 * `distinct-adapter status`: queue depth, age and dead letters by reason, the forwarder's circuit
 * with Distinct's last answer, per-source totals since start, events forwarded, version.
 *
 * No personal data: counts, reasons, provider event names and Distinct's (redacted) message only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Forwarder } from '../forwarder/forwarder';
import type { Activity } from '../observability/activity';
import { redactPii } from '../observability/logger';
import type { StatusDocument } from '../observability/status-document';
import type { Queue, QueueStats } from '../queue/queue';

export interface StatusInputs {
  queue: Queue;
  activity: Activity;
  forwarder: Forwarder | null;
  role: StatusDocument['role'];
  /** Not shutting down (readiness). */
  shuttingDown: () => boolean;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The document of a running process. */
export async function liveStatus(inputs: StatusInputs): Promise<StatusDocument> {
  const { queue, activity, forwarder } = inputs;
  const [stats, byReason, writable] = await Promise.all([
    queue.stats(),
    queue.deadLetterCounts ? queue.deadLetterCounts() : Promise.resolve({}),
    queue.isWritable().catch(() => false),
  ]);
  const c = forwarder?.circuitState();
  return {
    running: true,
    version: packageVersion(),
    startedAt: iso(activity.startedAt),
    role: inputs.role,
    ready: writable && !inputs.shuttingDown(),
    queue: queueSection(queue.driver, stats, byReason),
    circuit: c
      ? {
          state: c.state,
          since: iso(c.since),
          lastStatus: c.lastStatus,
          lastMessage: c.lastMessage === null ? null : redactPii(c.lastMessage).slice(0, 300),
          lastAnswerAt: iso(c.lastAnswerAt),
          nextProbeAt: iso(c.nextProbeAt),
          reason:
            c.state === 'open'
              ? `Distinct answered HTTP ${c.lastStatus ?? '401/403'}: it rejects the API key (distinct.apiKey) or this server's IP; forwarding is paused, events stay queued, one probe per circuit.probeIntervalMs`
              : null,
        }
      : closedCircuit(),
    forwarding: forwarder !== null,
    sources: inputs.role === 'forward' ? {} : activity.sources(),
    forwarded: activity.forwarded,
  };
}

/** The document `status` builds from the queue alone when no process answers. */
export function offlineStatus(
  driver: string,
  stats: QueueStats,
  deadLettersByReason: Record<string, number>,
): StatusDocument {
  return {
    running: false,
    version: packageVersion(),
    startedAt: null,
    role: 'offline',
    ready: false,
    queue: queueSection(driver, stats, deadLettersByReason),
    circuit: closedCircuit(),
    forwarding: false,
    sources: {},
    forwarded: 0,
  };
}

function queueSection(driver: string, stats: QueueStats, byReason: Record<string, number>): StatusDocument['queue'] {
  return {
    driver,
    depth: stats.depth,
    inFlight: stats.inFlight,
    oldestAgeSeconds: Math.floor(stats.oldestAgeMs / 1000),
    deadLetters: stats.deadLettered,
    deadLettersByReason: byReason,
  };
}

function closedCircuit(): StatusDocument['circuit'] {
  return {
    state: 'closed',
    since: null,
    lastStatus: null,
    lastMessage: null,
    lastAnswerAt: null,
    nextProbeAt: null,
    reason: null,
  };
}

let version: string | undefined;

/** The version in package.json, found by walking up (works from src/ and from dist/src/). */
export function packageVersion(): string {
  if (version !== undefined) return version;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (version = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version);
  }
  return (version = '0.0.0');
}
