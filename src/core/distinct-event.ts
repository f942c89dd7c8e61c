/**
 * The one thing Distinct accepts: `POST {baseUrl}/api/v1/user/analytics`, one event per request
 * (DESIGN §6). Optional fields are omitted, never `""` or `null`.
 */
export interface DistinctEvent {
  userId?: string;
  email?: string;
  /** E.164, no spaces. */
  phone?: string;
  /** Registry spelling. */
  feature: string;
  /** Registry spelling. */
  action: string;
  experienceId: string;
  /** Strict ISO 8601, UTC with `Z`. */
  capturedAt: string;
  metadata?: Record<string, string | number | boolean>;
}

/** Every field of a {@link DistinctEvent}, in the order Distinct documents them (DESIGN §6). */
export const DISTINCT_EVENT_FIELDS = [
  'userId',
  'email',
  'phone',
  'feature',
  'action',
  'experienceId',
  'capturedAt',
  'metadata',
] as const satisfies ReadonlyArray<keyof DistinctEvent>;

/** Why an event was dead-lettered. Stable: operators filter on these (`dlq list --reason`). */
export const DEAD_LETTER_REASONS = {
  no_identifier: 'no userId, valid e-mail or E.164 phone could be derived; never sent to fail at Distinct',
  invalid_pair:
    'the feature/action pair is not registered (per-message override, or Distinct answered "Invalid feature/action.")',
  invalid_experience: 'Distinct answered "Invalid experience id."',
  user_not_found: 'Distinct kept answering "User not found." for the whole slow-retry window',
  max_attempts: 'transient failures exhausted retry.maxAttempts',
  max_age: 'the event was older than retry.maxAgeMs before it could be delivered',
  unexpected_response: 'Distinct answered something the contract does not describe (status and message kept)',
} as const;

export type DeadLetterReason = keyof typeof DEAD_LETTER_REASONS;
