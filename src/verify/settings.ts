/**
 * Zod pieces for verification settings (the provider-specific source options each adapter's
 * `settingsSchema` validates): rotatable secrets, rotatable parsed credentials (keys,
 * certificates) and the signed-timestamp window. They live with the verifiers, so adapters never
 * reach into src/config/.
 */
import { z } from 'zod';

/** One secret, or a list while rotating (old and new both valid); yields the list. */
export const rotatableSecret = z
  .union([z.string().min(1, 'must not be empty'), z.array(z.string().min(1, 'must not be empty')).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

/** A signed-timestamp window in seconds; 0 disables it. */
export const toleranceSeconds = z.number().int().nonnegative();

/**
 * A rotatable setting (one string, or a list while rotating) whose every entry `parse` turns into
 * a credential. An entry it rejects (null) is reported with `invalid` at its index in a list; the
 * message never echoes the value, which is configuration, possibly pasted from a secret store.
 */
export function rotatableParsed<T>(
  parse: (text: string) => T | null,
  messages: { required?: string; type: string; invalid: string },
) {
  return z
    .union([z.string(), z.array(z.string())], {
      error: (issue) =>
        issue.input === undefined && messages.required !== undefined ? messages.required : messages.type,
    })
    .pipe(rotatableSecret)
    .transform((texts, ctx) => {
      const parsed: T[] = [];
      texts.forEach((text, i) => {
        const value = parse(text);
        if (value !== null) parsed.push(value);
        else
          ctx.addIssue({
            code: 'custom',
            message: messages.invalid,
            path: texts.length > 1 ? [i] : [],
            input: undefined,
          });
      });
      return parsed;
    });
}

/**
 * The first secret of a rotatable option as a config file holds it (one string or a list): what
 * `signerFromOptions` signs with. Undefined when there is none.
 */
export function firstSecret(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}
