/**
 * The adapter list. Adding a provider = one file in this folder, one line here, and a folder in
 * `fixtures/`. test/unit/adapter-list.test.ts fails when a file here is missing from the list.
 */
import type { AnyAdapter } from '../src/core/adapter';
import { adapter as brevo } from './brevo';
import { adapter as generic } from './generic';
import { adapter as infobip } from './infobip';
import { adapter as mailgun } from './mailgun';
import { adapter as mailjet } from './mailjet';
import { adapter as mandrill } from './mandrill';
import { adapter as messagebird } from './messagebird';
import { adapter as plivo } from './plivo';
import { adapter as postmark } from './postmark';
import { adapter as resend } from './resend';
import { adapter as sendgrid } from './sendgrid';
import { adapter as ses } from './ses';
import { adapter as sinch } from './sinch';
import { adapter as sparkpost } from './sparkpost';
import { adapter as telnyx } from './telnyx';
import { adapter as twilio } from './twilio';
import { adapter as vonage } from './vonage';

export const ADAPTERS: readonly AnyAdapter[] = [
  // e-mail
  sendgrid,
  mailgun,
  ses,
  postmark,
  brevo,
  sparkpost,
  mailjet,
  resend,
  mandrill,
  // SMS
  twilio,
  vonage,
  plivo,
  telnyx,
  messagebird,
  sinch,
  infobip,
  // the vendor's own app events
  generic,
];

const BY_NAME = new Map(ADAPTERS.map((a) => [a.name, a]));

/** The adapter for a provider slug, or undefined. */
export function getAdapter(name: string): AnyAdapter | undefined {
  return BY_NAME.get(name);
}
