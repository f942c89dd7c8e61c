/**
 * Twilio's simulation samples: the message status callbacks Twilio posts (form parameters in
 * Twilio's order, `whatsapp:` numbers for WhatsApp, sender metadata in the callback URL's query).
 * `simulate` sends them and the conformance suite signs and parses them; adapters/twilio.ts
 * receives them.
 */
import { randomBytes } from 'node:crypto';
import type { SampleOptions, SampleRequest } from '../../src/core/adapter';
import type { SmsEventType } from '../../src/core/event-types';
import { own, toWireOverrides } from '../../src/core/overrides';
import { sampleTemplate } from '../../src/core/samples';
import { DONE_DATE_STATUSES, EVENT_MAP, type TwilioStatus } from '../twilio';

/** The status `simulate` sends for each normalized type. */
const SAMPLE_STATUS = {
  'sms.queued': 'queued',
  'sms.sent': 'sent',
  'sms.delivered': 'delivered',
  'sms.undelivered': 'undelivered',
  'sms.failed': 'failed',
  'sms.received': 'received',
  'sms.unknown': 'canceled',
} as const satisfies Partial<Record<SmsEventType, TwilioStatus>>;

/** Error codes carried by sample failures: 30003 unreachable handset, 30008 unknown error. */
const SAMPLE_ERROR_CODE: Readonly<Partial<Record<TwilioStatus, string>>> = { undelivered: '30003', failed: '30008' };

/** The sample sender: Twilio's documentation number (and WhatsApp sandbox number for whatsapp:). */
const SAMPLE_SENDER = '+15017122661';
const SAMPLE_WHATSAPP_SENDER = '+14155238886';

/** `YYMMDDhhmm`, as carriers write `RawDlrDoneDate`. */
function doneDate(now: Date): string {
  return now.toISOString().replace(/^\d{2}(\d{2})-(\d{2})-(\d{2})T(\d{2}):(\d{2}).*$/, '$1$2$3$4$5');
}

/** A status callback (or, for `sms.received`, an inbound message) for `type`, as Twilio posts it. */
export function sample({ type, recipient, now, overrides }: SampleOptions): SampleRequest {
  const status = sampleTemplate<TwilioStatus>(SAMPLE_STATUS, type, 'Twilio', 'status');
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const channel = /^([a-z]+):/i.exec(recipient)?.[1];
  const sender = channel ? `${channel}:${SAMPLE_WHATSAPP_SENDER}` : SAMPLE_SENDER;
  const inbound = EVENT_MAP[status] === 'sms.received';
  // Parameter order as Twilio posts status callbacks.
  const body = new URLSearchParams();
  if (channel) body.set('ChannelPrefix', channel);
  body.set('SmsSid', sid);
  body.set('SmsStatus', status);
  if (!inbound) body.set('MessageStatus', status); // inbound webhooks carry SmsStatus only
  body.set('To', inbound ? sender : recipient);
  body.set('MessageSid', sid);
  body.set('AccountSid', `AC${randomBytes(16).toString('hex')}`);
  body.set('From', inbound ? recipient : sender);
  body.set('ApiVersion', '2010-04-01');
  const errorCode = own(SAMPLE_ERROR_CODE, status);
  if (errorCode) body.set('ErrorCode', errorCode);
  if (DONE_DATE_STATUSES.has(status)) body.set('RawDlrDoneDate', doneDate(now));
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'TwilioProxy/1.1' },
    body: Buffer.from(body.toString(), 'utf8'),
    query: new URLSearchParams(toWireOverrides(overrides)).toString(),
  };
}
