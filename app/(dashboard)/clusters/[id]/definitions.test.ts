import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { setupTestDatabase } from "@/lib/testing/database";
import { executeAction } from "@/lib/auth/action";
import type { SessionUser } from "@/lib/auth/users";
import { verifyIngestToken } from "@/lib/usage/ingest-tokens";
import { issueWebhookTokenAction } from "./definitions";

const database = setupTestDatabase();
const user = (role: SessionUser["role"]): SessionUser => ({ id: `u-${role}`, email: `${role}@example.test`, name: role, role });
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";

interface WebhookKubeconfig {
  clusters: { cluster: { server: string; "certificate-authority-data"?: string } }[];
  users: { user: { token: string } }[];
}

beforeAll(async () => {
  await database.prisma.user.createMany({ data: (["security", "owner", "auditor"] as const).map((role) => ({ ...user(role) })) });
  await database.prisma.cluster.create({ data: { id: "c-prod", name: "prod", apiServerUrl: "https://prod.example:6443" } });
});

describe("issueWebhookTokenAction", () => {
  it("gives a security engineer a webhook kubeconfig whose token works for this cluster; a new one revokes it", async () => {
    const first = await executeAction(issueWebhookTokenAction, user("security"), { clusterId: "c-prod", keywardUrl: "https://keyward.example/" });
    if (!first.ok) throw new Error(first.error);
    const config = parse(first.data.kubeconfig) as WebhookKubeconfig;
    expect(config.clusters[0].cluster).toEqual({ server: "https://keyward.example/api/v1/clusters/c-prod/audit" });
    const token = config.users[0].user.token;
    expect(await verifyIngestToken(database.prisma, "c-prod", token)).toBe(true);

    const second = await executeAction(issueWebhookTokenAction, user("security"), { clusterId: "c-prod", keywardUrl: "http://10.0.0.5:3000", caPem: CA });
    if (!second.ok) throw new Error(second.error);
    const renewed = parse(second.data.kubeconfig) as WebhookKubeconfig;
    expect(Buffer.from(renewed.clusters[0].cluster["certificate-authority-data"] ?? "", "base64").toString()).toBe(CA);
    expect(await verifyIngestToken(database.prisma, "c-prod", renewed.users[0].user.token)).toBe(true);
    expect(await verifyIngestToken(database.prisma, "c-prod", token)).toBe(false);
    expect(JSON.stringify(await database.prisma.auditIngestToken.findMany())).not.toContain(token);
  });

  it("refuses owners and auditors, unknown clusters and bad input, and issues nothing", async () => {
    const before = await database.prisma.auditIngestToken.count();
    for (const role of ["owner", "auditor"] as const) {
      expect(await executeAction(issueWebhookTokenAction, user(role), { clusterId: "c-prod", keywardUrl: "https://keyward.example" })).toMatchObject({
        ok: false,
        status: 403,
      });
    }
    expect(await executeAction(issueWebhookTokenAction, user("security"), { clusterId: "missing", keywardUrl: "https://keyward.example" })).toMatchObject({
      ok: false,
      status: 404,
    });
    expect(await executeAction(issueWebhookTokenAction, user("security"), { clusterId: "c-prod", keywardUrl: "ftp://keyward.example", caPem: "not a cert" })).toMatchObject({
      ok: false,
      status: 400,
      fieldErrors: { keywardUrl: [expect.stringMatching(/http\(s\) URL/)], caPem: [expect.stringMatching(/PEM/)] },
    });
    expect(await database.prisma.auditIngestToken.count()).toBe(before);
    const denied = await database.prisma.auditLogEntry.findMany({ where: { action: "cluster.audit_webhook_token", outcome: "denied" }, select: { actorLabel: true } });
    expect(denied.map((d) => d.actorLabel).sort()).toEqual(["auditor@example.test", "owner@example.test"]);
  });
});
