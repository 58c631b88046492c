import { loadAdapterModule } from '../adapters/load-module.ts';
import type { EmailAdapterOption } from '../config/types.ts';

/** A message Parsec asks the email adapter to deliver. */
export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/**
 * Where account emails go (password reset, verification). Production deployments plug in a real sender;
 * the default writes the message to the log, which is what a developer wants on a laptop.
 */
export interface EmailAdapter {
  sendMail(message: EmailMessage): Promise<void>;
}

/**
 * Loads the configured adapter: the module's default export (or the module itself) is either a factory
 * called with the configured options, a class constructed with them, or an adapter (Parse's loadAdapter); either way it must have `sendMail`, or the start fails.
 */
export async function loadEmailAdapter(option: EmailAdapterOption, cwd: string): Promise<EmailAdapter> {
  const candidate: unknown = await loadAdapterModule(option.module, option.options, cwd);
  const sendMail = (candidate as { sendMail?: unknown } | null)?.sendMail;
  if (typeof sendMail !== 'function') throw new Error(`emailAdapter ${option.module} has no sendMail function`);
  return { sendMail: (message) => Promise.resolve((sendMail as (m: EmailMessage) => unknown).call(candidate, message)).then(() => undefined) };
}

export interface EmailLog {
  info(details: object, message: string): void;
}

export function loggingEmailAdapter(log: EmailLog): EmailAdapter {
  return {
    sendMail(message) {
      log.info({ to: message.to, subject: message.subject, text: message.text }, 'email (development adapter: not sent)');
      return Promise.resolve();
    },
  };
}
