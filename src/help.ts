// The help page error messages point to, as PyPI's do ("See https://pypi.org/help/#file-name-reuse
// for more information."): an error names a topic (`extra.help`), and the one place that sends
// errors (src/http/app.ts) appends the sentence with this index's help URL — pier's own `/help/`
// under the public URL, or PIER_HELP_URL where an organisation keeps its own page.
import { PierError } from './errors.js';

export const HELP_TOPICS = ['file-name-reuse', 'invalid-auth', 'project-name'] as const;
export type HelpTopic = (typeof HELP_TOPICS)[number];

export function isHelpTopic(value: unknown): value is HelpTopic {
  return typeof value === 'string' && (HELP_TOPICS as readonly string[]).includes(value);
}

/** The help page: the configured one, else `/help/` under the public URL. */
export function helpUrl(configured: string | null, publicUrl: string): string {
  return configured ?? `${publicUrl.replace(/\/+$/, '')}/help/`;
}

/** PyPI's sentence: "See <help URL>#<topic> for more information." */
export function helpSentence(base: string, topic: HelpTopic): string {
  return `See ${base.replace(/#.*$/, '')}#${topic} for more information.`;
}

/** An error whose message will end with the help sentence for `topic`. */
export function withHelp(err: PierError, topic: HelpTopic): PierError {
  return new PierError(err.status, err.message, { ...err.extra, help: topic });
}

/** The message and extra fields as sent: the help sentence appended, the topic kept as `help_url`. */
export function withHelpSentence(
  message: string,
  extra: Record<string, unknown>,
  base: string,
): { message: string; extra: Record<string, unknown> } {
  const { help, ...rest } = extra;
  if (!isHelpTopic(help)) return { message, extra };
  return { message: `${message} ${helpSentence(base, help)}`, extra: rest };
}
