// Email over SMTP (nodemailer): plain text as written, plus a minimal HTML version with the link clickable.
import nodemailer from "nodemailer";
import { withLink, type Sender } from "../outbox";

const TIMEOUT_MS = 15_000;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Paragraphs of the text, with the message's link (and only it) made a link, added at the end if the text lacks it. */
export function emailHtml(text: string, link: string | null | undefined): string {
  const anchor = link ? `<a href="${escapeHtml(link)}">${escapeHtml(link)}</a>` : "";
  const paragraphs = text.split(/\n{2,}/).map((paragraph) => {
    const html = escapeHtml(paragraph).replaceAll("\n", "<br>");
    return `<p>${link ? html.replaceAll(escapeHtml(link), anchor) : html}</p>`;
  });
  if (link && !text.includes(link)) paragraphs.push(`<p>${anchor}</p>`);
  return `<!doctype html><html><body style="font-family: sans-serif">${paragraphs.join("")}</body></html>`;
}

/** A sender for `smtp://` / `smtps://` URLs (credentials in the URL); one pooled connection per sender. */
export function emailSender(config: { url: string; from: string }): Sender {
  const transport = nodemailer.createTransport({
    url: config.url,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  return async (notification) => {
    await transport.sendMail({
      from: config.from,
      to: notification.recipient,
      subject: notification.subject,
      text: withLink(notification.body),
      html: emailHtml(notification.body.text, notification.body.link),
      headers: { "X-Keyward-Notification": notification.kind },
    });
  };
}
