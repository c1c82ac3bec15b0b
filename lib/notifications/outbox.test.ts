// The outbox against a real local SMTP server (smtp-server) and a real HTTP webhook receiver, on a real database.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { insertCluster } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import { NotificationConfigError, notificationConfig, type NotificationConfig } from "./config";
import { notifyCampaign } from "./notify";
import { backoffMs, deliverDueNotifications, enqueueNotification, type NewNotification } from "./outbox";
import { sendersFor } from "./senders";

const database = setupTestDatabase();
let prisma: PrismaClient;
beforeAll(() => {
  prisma = database.prisma;
});
// After the real clock: rows enqueued now are due at NOW.
const NOW = new Date("2030-12-01T09:00:00Z");

interface Mail {
  to: string[];
  raw: string;
}

/** A real SMTP server on a free port, collecting what it accepts (optionally slowly, to make sends overlap). */
async function startSmtp(delayMs = 0) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        // Headers unfolded, quoted-printable soft breaks and escapes decoded: enough to read what was sent.
        const raw = Buffer.concat(chunks)
          .toString("utf8")
          .replace(/\r\n[ \t]+/g, " ")
          .replace(/=\r\n/g, "")
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw });
        setTimeout(() => callback(), delayMs);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A webhook receiver answering `status` (changeable), recording every JSON body it gets. */
async function startWebhook() {
  const received: { text: string }[] = [];
  const state = { status: 200 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { text: string });
      response
        .writeHead(state.status, { "content-type": "text/plain" })
        .end(state.status === 200 ? "ok" : "unavailable");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let hook: Awaited<ReturnType<typeof startWebhook>>;
let config: NotificationConfig;

beforeAll(async () => {
  smtp = await startSmtp();
  hook = await startWebhook();
  config = notificationConfig({
    KEYWARD_SMTP_URL: smtp.url,
    KEYWARD_SMTP_FROM: "Keyward <keyward@example.test>",
    KEYWARD_NOTIFY_WEBHOOK_URL: hook.url,
    AUTH_URL: "https://keyward.example.test/",
  });
});
afterAll(async () => {
  await smtp.close();
  await hook.close();
});
afterEach(async () => {
  await prisma.notificationOutbox.deleteMany();
  smtp.mails.length = 0;
  hook.received.length = 0;
  hook.state.status = 200;
});

const email = (n: number, extra: Partial<NewNotification> = {}): NewNotification => ({
  kind: "reminder",
  channel: "email",
  recipient: `reviewer${n}@example.test`,
  subject: `Reminder number ${n}`,
  body: { text: `Body of message ${n}`, link: `https://keyward.example.test/campaigns/c${n}` },
  dedupeKey: `test:${n}:email`,
  ...extra,
});

describe("configuration", () => {
  it("enables the senders whose environment is set, and refuses a half or malformed one", () => {
    expect(notificationConfig({})).toEqual({ email: null, webhook: null, linkBase: null });
    expect(notificationConfig({ KEYWARD_SMTP_URL: "", KEYWARD_URL: "https://k.example/x/" })).toEqual({
      email: null,
      webhook: null,
      linkBase: "https://k.example/x",
    });
    expect(config.email).toEqual({ url: smtp.url, from: "Keyward <keyward@example.test>" });
    expect(config.linkBase).toBe("https://keyward.example.test");
    expect(() => notificationConfig({ KEYWARD_SMTP_URL: "smtp://mail.example" })).toThrow(
      /KEYWARD_SMTP_FROM/,
    );
    expect(() => notificationConfig({ KEYWARD_NOTIFY_WEBHOOK_URL: "ftp://x.example" })).toThrow(
      NotificationConfigError,
    );
  });
});

describe("enqueueing", () => {
  it("queues a dedupe key once, also when enqueued concurrently", async () => {
    expect(await enqueueNotification(prisma, email(1))).toBe(true);
    expect(await enqueueNotification(prisma, email(1, { subject: "changed" }))).toBe(false);
    const results = await Promise.all(Array.from({ length: 8 }, () => enqueueNotification(prisma, email(2))));
    expect(results.filter(Boolean)).toHaveLength(1);
    const rows = await prisma.notificationOutbox.findMany({ orderBy: { dedupeKey: "asc" } });
    expect(rows.map((row) => [row.dedupeKey, row.subject])).toEqual([
      ["test:1:email", "Reminder number 1"],
      ["test:2:email", "Reminder number 2"],
    ]);
  });

  it("rejects an email notification without an email address", async () => {
    await expect(enqueueNotification(prisma, email(3, { recipient: "not-an-address" }))).rejects.toThrow(
      /email address/,
    );
  });
});

describe("delivery", () => {
  it("sends email over SMTP and the webhook as Slack-compatible JSON, then marks them sent", async () => {
    await enqueueNotification(prisma, email(1));
    await enqueueNotification(prisma, {
      kind: "escalation",
      channel: "webhook",
      recipient: "webhook",
      subject: "Overdue: 3 identities",
      body: { text: "Campaign Q4 passed its deadline." },
      dedupeKey: "test:escalation:webhook",
    });
    const report = await deliverDueNotifications(prisma, sendersFor(config), { now: NOW });
    expect(report).toEqual({ sent: 2, retrying: 0, failed: 0 });

    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail.to).toEqual(["reviewer1@example.test"]);
    expect(mail.raw).toMatch(/^From: Keyward <keyward@example\.test>/m);
    expect(mail.raw).toMatch(/^Subject: Reminder number 1\r?$/m);
    expect(mail.raw).toMatch(/^X-Keyward-Notification: reminder/m);
    expect(mail.raw).toContain("Content-Type: text/plain");
    expect(mail.raw).toContain("Body of message 1\r\n\r\nhttps://keyward.example.test/campaigns/c1");
    expect(mail.raw).toContain('<a href="https://keyward.example.test/campaigns/c1">');

    expect(hook.received).toEqual([{ text: "*Overdue: 3 identities*\nCampaign Q4 passed its deadline." }]);

    const rows = await prisma.notificationOutbox.findMany();
    expect(rows.map((row) => [row.status, row.attempts, row.sentAt?.toISOString(), row.lastError])).toEqual([
      ["sent", 1, NOW.toISOString(), null],
      ["sent", 1, NOW.toISOString(), null],
    ]);
    // Nothing is due any more: a second run sends nothing.
    expect(await deliverDueNotifications(prisma, sendersFor(config), { now: NOW })).toEqual({
      sent: 0,
      retrying: 0,
      failed: 0,
    });
    expect(smtp.mails).toHaveLength(1);
    expect(hook.received).toHaveLength(1);
  });

  it("leaves a channel without a sender queued", async () => {
    await enqueueNotification(prisma, email(1));
    const report = await deliverDueNotifications(prisma, sendersFor({ ...config, email: null }), {
      now: NOW,
    });
    expect(report.sent).toBe(0);
    expect(await prisma.notificationOutbox.findFirstOrThrow()).toMatchObject({
      status: "pending",
      attempts: 0,
    });
  });

  it("retries a failing webhook with exponential backoff, then sends it once the receiver recovers", async () => {
    hook.state.status = 503;
    await enqueueNotification(prisma, {
      ...email(1),
      channel: "webhook",
      recipient: "webhook",
      dedupeKey: "retry:webhook",
    });
    const senders = sendersFor(config);

    expect(await deliverDueNotifications(prisma, senders, { now: NOW })).toEqual({
      sent: 0,
      retrying: 1,
      failed: 0,
    });
    let row = await prisma.notificationOutbox.findFirstOrThrow();
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row.lastError).toMatch(/answered 503: unavailable/);
    expect(row.nextAttemptAt.getTime()).toBe(NOW.getTime() + backoffMs(1));

    // Not due before its backoff has passed: the receiver is not called again.
    const beforeDue = new Date(NOW.getTime() + backoffMs(1) - 1_000);
    expect(await deliverDueNotifications(prisma, senders, { now: beforeDue })).toEqual({
      sent: 0,
      retrying: 0,
      failed: 0,
    });
    expect(hook.received).toHaveLength(1);

    const second = new Date(NOW.getTime() + backoffMs(1));
    expect(await deliverDueNotifications(prisma, senders, { now: second })).toEqual({
      sent: 0,
      retrying: 1,
      failed: 0,
    });
    row = await prisma.notificationOutbox.findFirstOrThrow();
    expect(row.attempts).toBe(2);
    expect(row.nextAttemptAt.getTime()).toBe(second.getTime() + backoffMs(2));
    expect(backoffMs(2)).toBe(2 * backoffMs(1));

    hook.state.status = 200;
    const third = new Date(second.getTime() + backoffMs(2));
    expect(await deliverDueNotifications(prisma, senders, { now: third })).toEqual({
      sent: 1,
      retrying: 0,
      failed: 0,
    });
    row = await prisma.notificationOutbox.findFirstOrThrow();
    expect(row).toMatchObject({ status: "sent", attempts: 3, lastError: null });
    expect(row.sentAt?.toISOString()).toBe(third.toISOString());
    expect(hook.received).toHaveLength(3);
  });

  it("gives up after the last attempt against an SMTP server that is down", async () => {
    const down = await startSmtp();
    await down.close();
    const senders = sendersFor({ ...config, email: { url: down.url, from: "keyward@example.test" } });
    await enqueueNotification(prisma, email(1));
    let now = NOW;
    const reports = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      reports.push(await deliverDueNotifications(prisma, senders, { now, maxAttempts: 3 }));
      now = new Date(now.getTime() + backoffMs(attempt));
    }
    expect(reports).toEqual([
      { sent: 0, retrying: 1, failed: 0 },
      { sent: 0, retrying: 1, failed: 0 },
      { sent: 0, retrying: 0, failed: 1 },
    ]);
    const row = await prisma.notificationOutbox.findFirstOrThrow();
    expect(row).toMatchObject({ status: "failed", attempts: 3, sentAt: null });
    expect(row.lastError).toMatch(/ECONNREFUSED/);
    // A failed notification is not tried again.
    expect(
      await deliverDueNotifications(prisma, senders, { now: new Date(now.getTime() + 86_400_000) }),
    ).toEqual({
      sent: 0,
      retrying: 0,
      failed: 0,
    });
  });

  it("two deliverers running at once send every message exactly once", async () => {
    const slow = await startSmtp(25);
    const senders = sendersFor({ ...config, email: { url: slow.url, from: "keyward@example.test" } });
    for (let n = 0; n < 60; n += 1) await enqueueNotification(prisma, email(n));
    // Two workers: separate clients, separate connections.
    const workers = [
      createPrismaClient(process.env.DATABASE_URL!),
      createPrismaClient(process.env.DATABASE_URL!),
    ];
    try {
      const reports = await Promise.all(
        workers.map((db) => deliverDueNotifications(db, senders, { now: NOW, batchSize: 5 })),
      );
      expect(reports[0].sent + reports[1].sent).toBe(60);
      expect(reports.every((report) => report.sent > 0)).toBe(true);
    } finally {
      await Promise.all(workers.map((db) => db.$disconnect()));
      await slow.close();
    }
    const recipients = slow.mails.flatMap((mail) => mail.to);
    expect(recipients).toHaveLength(60);
    expect(new Set(recipients).size).toBe(60);
    expect(await prisma.notificationOutbox.count({ where: { status: "sent", attempts: 1 } })).toBe(60);
  });
});

describe("campaign notifications", () => {
  it("goes to the reviewer team's active members and the webhook once per occasion, and escalations to security", async () => {
    const [alice, bob, carol, sec, admin] = await Promise.all(
      [
        ["alice@example.test", "owner", false],
        ["bob@example.test", "owner", false],
        ["carol@example.test", "owner", true],
        ["sec@example.test", "security", false],
        ["admin@example.test", "admin", false],
      ].map(([mail, role, disabled]) =>
        prisma.user.create({
          data: {
            email: mail as string,
            name: mail as string,
            role: role as "owner",
            disabled: disabled as boolean,
          },
        }),
      ),
    );
    await prisma.user.create({ data: { email: "auditor@example.test", name: "auditor", role: "auditor" } });
    const team = await prisma.team.create({
      data: {
        name: "Payments",
        slug: "payments",
        members: { create: [alice, bob, carol].map((u) => ({ userId: u.id })) },
      },
    });
    const other = await prisma.team.create({
      data: { name: "Other", slug: "other", members: { create: [{ userId: sec.id }] } },
    });
    const cluster = await insertCluster(prisma, "prod");
    const campaign = await prisma.campaign.create({
      data: {
        name: "Q4 review",
        status: "active",
        createdById: admin.id,
        deadline: new Date("2030-12-15T00:00:00Z"),
        undecidedPolicy: "revoke",
      },
    });
    const item = (reviewerTeamId: string, status: "pending" | "decided") => ({
      campaignId: campaign.id,
      clusterId: cluster.id,
      reviewerTeamId,
      status,
      evidence: {},
      recommendation: "revoke" as const,
      recommendationReason: "unused",
    });
    await prisma.reviewItem.createMany({
      data: [
        item(team.id, "pending"),
        item(team.id, "pending"),
        item(team.id, "decided"),
        item(other.id, "pending"),
      ],
    });

    const reminder = {
      kind: "reminder" as const,
      campaignId: campaign.id,
      audience: { teamId: team.id },
      occasion: "7d",
    };
    expect(await notifyCampaign(prisma, reminder, { config, now: NOW })).toBe(3);
    expect(await notifyCampaign(prisma, reminder, { config, now: NOW })).toBe(0);
    expect(await notifyCampaign(prisma, { ...reminder, occasion: "1d" }, { config, now: NOW })).toBe(3);
    const escalation = {
      kind: "escalation" as const,
      campaignId: campaign.id,
      audience: "security" as const,
    };
    expect(await notifyCampaign(prisma, escalation, { config, now: NOW })).toBe(3);

    const rows = await prisma.notificationOutbox.findMany({
      where: { kind: { in: ["reminder", "escalation"] } },
    });
    const byKind = (kind: string, occasion: string) =>
      rows
        .filter((row) => row.kind === kind && row.dedupeKey.includes(`:${occasion}:`))
        .map((row) => row.recipient)
        .sort();
    expect(byKind("reminder", "7d")).toEqual(["alice@example.test", "bob@example.test", "webhook"]);
    expect(byKind("escalation", "-")).toEqual(["admin@example.test", "sec@example.test", "webhook"]);

    const teamReminder = rows.find((row) => row.recipient === "alice@example.test")!;
    expect(teamReminder.subject).toBe('Reminder: 2 identities still to review in "Q4 review"');
    expect(teamReminder.body).toMatchObject({
      link: `https://keyward.example.test/campaigns/${campaign.id}`,
    });
    expect((teamReminder.body as { text: string }).text).toContain(
      "2 identities for Payments in the access review",
    );
    expect((teamReminder.body as { text: string }).text).toContain(
      "The deadline is 2030-12-15 (in 14 days).",
    );
    const escalated = rows.find((row) => row.recipient === "sec@example.test")!;
    expect(escalated.subject).toBe('Overdue: 3 identities undecided in "Q4 review"');
    expect((escalated.body as { text: string }).text).toContain("3 identities of 4 undecided");
    expect((escalated.body as { text: string }).text).toContain("revokes undecided access");

    // Delivered through the real servers.
    expect(await deliverDueNotifications(prisma, sendersFor(config), { now: NOW })).toMatchObject({
      sent: 9,
    });
    expect(smtp.mails.flatMap((mail) => mail.to).sort()).toEqual(
      [
        "admin@example.test",
        "alice@example.test",
        "alice@example.test",
        "bob@example.test",
        "bob@example.test",
        "sec@example.test",
      ].sort(),
    );
    expect(hook.received).toHaveLength(3);
  });

  it("queues nothing when no channel is configured", async () => {
    const campaign = await prisma.campaign.findFirstOrThrow();
    const none = { email: null, webhook: null, linkBase: null };
    expect(
      await notifyCampaign(
        prisma,
        { kind: "close", campaignId: campaign.id, audience: "security" },
        { config: none },
      ),
    ).toBe(0);
  });
});
