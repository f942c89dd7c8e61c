/**
 * Infobip SMS delivery reports, SMS. Low confidence (PROVIDERS.md §16): built from the public API
 * reference, not from captured traffic.
 *
 * Payload:  https://www.infobip.com/docs/api/channels/sms/sms-messaging/logs-and-status-reports/receive-outbound-sms-message-report
 *           (marked deprecated in favour of the v3 SMS API; its reports keep the same `results[]`
 *           shape, with `sender`/`messageCount`/`platform` for `from`/`smsCount`/`entityId`)
 *           https://www.infobip.com/docs/developer-resources/errors-and-responses/response-codes (status groups)
 *           https://www.infobip.com/docs/developer-resources/about-infobip-apis/webhooks
 * Security: https://www.infobip.com/docs/api/platform/subscriptions-api/create-security-settings
 *           (notification profiles: BASIC, HMAC or OAUTH security settings, or mutual TLS)
 *
 * Verification: no signature documented in what we could read: credentials only (`basicAuth`,
 * from a BASIC security setting, and/or `headerToken`; src/verify/credentials.ts), so
 * `supports.credentialsOnly` is true.
 *
 * Quirks:
 * - Batched: `{"results":[…]}`, 100 reports per request by default (a notification profile's
 *   `maxBucketSize` allows 1–2000). One draft per result; any malformed result rejects the whole
 *   request (400) rather than acknowledging a partial batch.
 * - The event is `status.groupName` (PENDING, DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED). The
 *   DELIVERED group includes `DELIVERED_TO_OPERATOR`, which is only the carrier's acceptance, not the
 *   handset's: it is refined to `sms.sent` (table `STATUS_REFINEMENTS`) so it is never counted as
 *   delivered. `providerEvent` stays the group name; `details.status` carries the status name.
 * - Times are `yyyy-MM-dd'T'HH:mm:ss.SSSZ` with an offset without colon (`+0000`, `-0300`).
 *   `doneAt` (processing finished) is the event time; `sentAt` only when `doneAt` is absent.
 * - `callbackData` (a string set per message) is the metadata channel: a URL-encoded
 *   `distinct_user_id=…&distinct_feature=…`. Any other callbackData is kept as a detail.
 * - `to` is an MSISDN without `+`; the core adds it.
 * - `notifyContentType: application/xml` reports are not supported (400): use JSON (the default).
 * - Infobip's HMAC security setting is not implemented: its signing format is not documented in
 *   what we could read. Configure BASIC security instead.
 */
import { overridesFromForm } from '../src/body/read-form';
import { isObject, optionalObject, optionalString, requiredString } from '../src/body/read-json';
import { defineAdapter } from '../src/core/adapter';
import { WebhookParseError } from '../src/core/errors';
import { refineType, type Refinements, type EventMap } from '../src/core/event-types';
import type { EventDetails, EventDraft, EventOverrides } from '../src/core/normalized-event';
import type { WebhookRequest } from '../src/core/request';
import { isoFromString } from '../src/core/time';
import { credentialsOnly } from '../src/verify/credentials';
import { sample } from './samples/infobip';

/** `status.groupName` → normalized type (the five status groups of Infobip's response codes). */
const EVENT_MAP = {
  PENDING: 'sms.queued', // processed and forwarded; delivery not yet confirmed (PROVIDERS.md: no pair)
  DELIVERED: 'sms.delivered', // refined by status name, see STATUS_REFINEMENTS
  UNDELIVERABLE: 'sms.undelivered', // the operator could not deliver it
  EXPIRED: 'sms.undelivered', // no final report within the validity period (typically 48 h)
  REJECTED: 'sms.failed', // refused by Infobip or the operator before sending
} as const satisfies EventMap;

/** Status names whose group says more than they do. */
const STATUS_NAME_MAP = {
  DELIVERED_TO_OPERATOR: 'sms.sent', // group DELIVERED, but only the carrier accepted it: not handset delivery
} as const satisfies EventMap;

/** Whatever the group, the status `name` is looked up first. */
const STATUS_REFINEMENTS: Refinements = { '*': [{ field: 'name', table: STATUS_NAME_MAP }] };

/** Status name, error (when there is one), and the routing fields worth keeping. */
function readDetails(
  result: Record<string, unknown>,
  status: Record<string, unknown>,
  overrides: EventOverrides,
): EventDetails {
  const details: EventDetails = {};
  const name = optionalString(status, 'name');
  if (name) details.status = name;
  const error = optionalObject(result, 'error');
  const errorId = error === undefined ? undefined : optionalString(error, 'id');
  // error.id 0 is NO_ERROR: only a real error goes to metadata.
  if (error !== undefined && errorId !== undefined && errorId !== '0') {
    details.errorCode = errorId;
    const errorName = optionalString(error, 'name');
    if (errorName) details.errorName = errorName;
    if (typeof error.permanent === 'boolean') details.errorPermanent = error.permanent;
  }
  const mccMnc = optionalString(result, 'mccMnc');
  if (mccMnc) details.mccMnc = mccMnc;
  const bulkId = optionalString(result, 'bulkId');
  if (bulkId) details.bulkId = bulkId;
  const callbackData = optionalString(result, 'callbackData');
  // Plain callbackData is the sender's own reference: worth keeping. One carrying overrides is already read.
  if (callbackData !== undefined && Object.keys(overrides).length === 0) details.callbackData = callbackData;
  return details;
}

function readResult(entry: unknown, path: string): EventDraft {
  if (!isObject(entry)) throw new WebhookParseError('must be an object', path);
  const messageId = requiredString(entry, 'messageId', path);
  const status = optionalObject(entry, 'status');
  if (status === undefined) throw new WebhookParseError('"status" is required and must be an object', `${path}.status`);
  const group = requiredString(status, 'groupName', `${path}.status`);
  const overrides = overridesFromForm(optionalString(entry, 'callbackData')); // a URL-encoded form, or none
  const phone = optionalString(entry, 'to');
  return {
    type: refineType(EVENT_MAP, STATUS_REFINEMENTS, group, status, 'sms'),
    providerEvent: group,
    occurredAt: isoFromString(entry.doneAt) ?? isoFromString(entry.sentAt),
    messageId,
    providerEventId: null,
    ...(phone !== undefined ? { phone } : {}),
    overrides,
    details: readDetails(entry, status, overrides),
    raw: entry,
  };
}

/** @throws WebhookParseError naming the path of the problem (`results`, `results[3].messageId`…) */
function parse(req: WebhookRequest): EventDraft[] {
  const body = req.json();
  if (!isObject(body)) throw new WebhookParseError('an Infobip delivery report must be a JSON object', '');
  const results = body.results;
  if (!Array.isArray(results)) throw new WebhookParseError('"results" must be an array of reports', 'results');
  return results.map((entry: unknown, i) => readResult(entry, `results[${i}]`));
}

/** The Infobip adapter. */
export const adapter = defineAdapter({
  name: 'infobip',
  displayName: 'Infobip',
  channel: 'sms',
  docsUrl:
    'https://www.infobip.com/docs/api/channels/sms/sms-messaging/logs-and-status-reports/receive-outbound-sms-message-report',
  methods: ['POST'],
  ...credentialsOnly('infobip', { sample }),
  eventMap: EVENT_MAP,
  refinements: STATUS_REFINEMENTS,
  parse,
});
