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
