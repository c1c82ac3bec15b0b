// A generic chat webhook: Slack-compatible `{ text }` JSON (Slack, Mattermost, Rocket.Chat and Teams workflows
// accept it). Anything but a 2xx answer, or no answer within the timeout, is a failed attempt.
import { withLink, type Sender } from "../outbox";

const DEFAULT_TIMEOUT_MS = 10_000;

export class WebhookDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookDeliveryError";
  }
}

export function webhookSender(config: { url: string; timeoutMs?: number }): Sender {
  return async (notification) => {
    const text = `*${notification.subject}*\n${withLink(notification.body)}`;
    let response: Response;
    try {
      response = await fetch(config.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(config.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        redirect: "error",
      });
    } catch (error) {
      // The URL may carry a secret (Slack's do): say what failed, never where.
      const reason =
        error instanceof Error && error.name === "TimeoutError" ? "timed out" : "could not be reached";
      throw new WebhookDeliveryError(`The notification webhook ${reason}.`);
    }
    if (!response.ok) {
      const answer = (await response.text().catch(() => "")).slice(0, 200);
      throw new WebhookDeliveryError(
        `The notification webhook answered ${response.status}${answer ? `: ${answer}` : ""}.`,
      );
    }
    await response.body?.cancel();
  };
}
