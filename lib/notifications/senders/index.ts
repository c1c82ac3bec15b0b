import type { NotificationConfig } from "../config";
import type { Senders } from "../outbox";
import { emailSender } from "./email";
import { webhookSender } from "./webhook";

/** The senders the configuration enables (none configured: nothing is delivered, the outbox keeps it). */
export function sendersFor(config: NotificationConfig): Senders {
  return {
    ...(config.email ? { email: emailSender(config.email) } : {}),
    ...(config.webhook ? { webhook: webhookSender(config.webhook) } : {}),
  };
}
