/**
 * The adapter contract: what one file in `adapters/` exports (STYLE §3.3).
 *
 * An adapter holds provider knowledge only: how to verify a request, how to parse its body into
 * {@link EventDraft}s, and its raw-name → normalized-type table. The pipeline does the rest.
 */
import type { z } from 'zod';
import { refinedTypes, type Channel, type EventMap, type EventType, type Refinements } from './event-types';
import type { EventDraft } from './normalized-event';
import type { WebhookRequest, WebhookResponse } from './request';
import type { ReplayCache } from './replay-cache';

/** Capabilities that switch the shared conformance suite's optional checks on. */
export interface AdapterSupports {
  /** The provider signs a timestamp, so stale and future requests are rejected. */
  timestamp: boolean;
  /** Secrets accept a list (old and new both valid). */
  rotation: boolean;
  /** The signature covers the whole raw body (false for Mailgun, which signs only timestamp + token). */
  signsBody: boolean;
  /** The signature covers the request URL (Twilio): needs the exact public URL. */
  signsUrl: boolean;
  /**
   * The provider signs nothing: requests are authenticated only by credentials the vendor
   * configures (basic auth, a header token). `validate` says so, and such a source without
   * credentials refuses to start unless marked `insecure: true`.
   */
  credentialsOnly?: boolean;
}

/** What `verify` can use besides the request and its settings. */
export interface VerifyContext {
  /** Per-source cache of replay tokens (keys are recorded by the pipeline after acknowledgement). */
  replayCache: ReplayCache;
}

/** The result of `verify`: optionally a replay key the pipeline records once the request is acknowledged. */
export interface VerifyResult {
  replayKey?: string;
}

/** A request before signing, as the test signer and `simulate` build it. */
export interface UnsignedRequest {
  method: string;
  /** Full URL the provider would call (the source's public URL plus query). */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** What `simulate` asks a sample for: a normalized type, the recipient, the time and the sender's overrides. */
export interface SampleOptions {
  type: string;
  recipient: string;
  now: Date;
  overrides?: Record<string, string>;
}

/** A sample request body, its headers and the query string (for URL-carried metadata). */
export interface SampleRequest {
  headers: Record<string, string>;
  body: Buffer;
  query: string;
}

/** Test-signing support: every verifier can also sign (octokit `sign`, stripe `generateTestHeaderString`). */
export interface AdapterTesting<TSigner> {
  /**
   * Throwaway credentials: `options` are the source options exactly as a config file would hold
   * them (e.g. `{ publicKey: '<base64 DER>' }`), `signer` the private material that signs for them.
   */
  createCredentials(): { options: Record<string, unknown>; signer: TSigner };
  /** Returns the request signed as the provider would sign it at `now`. */
  sign(req: UnsignedRequest, signer: TSigner, now: Date): UnsignedRequest;
  /**
   * A canonical sample request body for `simulate`, for a normalized type this adapter emits
   * (`email.delivered`…), addressed to `recipient` and carrying `overrides` the way the provider
   * echoes a sender's metadata. Returns the body and the query string (for URL-carried metadata).
   */
  sample(options: SampleOptions): SampleRequest;
  /** The request with its signature removed: `verify` must then fail with `missing_signature`. */
  stripSignature(req: UnsignedRequest): UnsignedRequest;
  /** The options key holding the rotatable secret (the conformance suite's rotation check). */
  readonly secretKey: string;
  /** For symmetric schemes, the signer derived from a config's options (so `simulate --config` can sign); undefined otherwise. */
  signerFromOptions(options: Record<string, unknown>): TSigner | undefined;
}

/** What an adapter file passes to {@link defineAdapter}: the contract minus what is derived from it. */
export interface AdapterDefinition<TSettings = unknown, TSigner = unknown> {
  /** Slug = file name = default source id: `sendgrid`. */
  readonly name: string;
  /** The provider's own spelling: `SendGrid`. */
  readonly displayName: string;
  readonly channel: Channel;
  /** The provider's webhook documentation. */
  readonly docsUrl: string;
  readonly supports: AdapterSupports;
  /** HTTP methods the provider uses (POST for nearly everyone). */
  readonly methods: readonly string[];
  /**
   * The provider-specific source options (DESIGN §4 table), validated at start-up.
   * Parsing yields the settings `verify` receives.
   */
  readonly settingsSchema: z.ZodType<TSettings>;
  /** Raw provider event name → normalized type. Written as data. */
  readonly eventMap: EventMap;
  /**
   * Second-field refinements of `eventMap` (Mailgun `failed` + `severity: temporary` →
   * `email.deferred`), applied by `refineType()`. Their tables count as emitted types.
   */
  readonly refinements?: Refinements;
  /**
   * Other raw-name tables `parse` looks names up in (Mailgun's legacy webhooks, Sinch's inbound
   * messages). Their values count as emitted types.
   */
  readonly otherEventMaps?: readonly EventMap[];
  /**
   * E-mail: provider events that are machine opens by definition (Brevo `proxy_open`), so a source
   * with `machineOpens: ignore` never forwards them (`validate` shows them ignored). Opens flagged
   * per event (SendGrid `sg_machine_open`) carry `details.machineOpen: true` instead.
   */
  readonly machineOpenEvents?: readonly string[];
  /**
   * Proves the request comes from the provider.
   * @throws WebhookVerificationError with a reason
   */
  verify(
    req: WebhookRequest,
    settings: TSettings,
    ctx: VerifyContext,
  ): VerifyResult | void | Promise<VerifyResult | void>;
  /**
   * Parses an already-verified request into event drafts (always an array; may be empty).
   * @throws WebhookParseError naming the path of the problem
   */
  parse(req: WebhookRequest): EventDraft[];
  /** Provider handshakes answered before verification of events (SNS subscription, validation pings). */
  handshake?(
    req: WebhookRequest,
    settings: TSettings,
  ): Promise<WebhookResponse | undefined> | WebhookResponse | undefined;
  /** The 2xx answered once events are queued, when the provider wants something specific (default: 200 JSON summary). */
  readonly acknowledgement?: WebhookResponse;
  readonly testing: AdapterTesting<TSigner>;
}

/**
 * A verification family's share of an adapter (credentials only, Standard Webhooks, shared-secret
 * HMAC, URL-signed…): what it supports, its settings schema, `verify`, and the test signer.
 * Adapters spread it into their definition: `...credentialsOnly('postmark', { sample })`.
 */
export type Verification<TSettings, TSigner> = Pick<
  AdapterDefinition<TSettings, TSigner>,
  'supports' | 'settingsSchema' | 'verify' | 'testing'
>;

/** An adapter as the core uses it: its definition plus what is derived from it. */
export interface Adapter<TSettings = unknown, TSigner = unknown> extends AdapterDefinition<TSettings, TSigner> {
  /**
   * Every normalized type `parse` can return: `eventMap` values, refinement and other tables'
   * values, and `<channel>.unknown`. Derived, never listed by hand; `validate`, the action
   * table and the conformance suite read it.
   */
  readonly emittedTypes: readonly EventType[];
}

/** Checks a definition against the contract and derives the emitted types. */
export function defineAdapter<TSettings, TSigner>(
  definition: AdapterDefinition<TSettings, TSigner>,
): Adapter<TSettings, TSigner> {
  const emitted = new Set<EventType>(Object.values(definition.eventMap));
  for (const t of refinedTypes(definition.refinements)) emitted.add(t);
  for (const map of definition.otherEventMaps ?? []) for (const t of Object.values(map)) emitted.add(t);
  emitted.add(`${definition.channel}.unknown`);
  return { ...definition, emittedTypes: [...emitted] };
}

/** Any adapter, for lists. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAdapter = Adapter<any, any>;
