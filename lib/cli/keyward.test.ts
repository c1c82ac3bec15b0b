import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { recordAudit, systemActor } from "@/lib/audit/log";
import { hashApiToken } from "@/lib/auth/api-tokens";
import { verifyPassword } from "@/lib/auth/password";
import { issueSyncToken } from "@/lib/demo/connect-cluster";

// Each command is a real child process, as an operator runs it; independent ones run side by side to keep this fast.
const database = setupTestDatabase();
const secretKey = randomBytes(32).toString("base64");
const tsx = path.resolve(import.meta.dirname, "../../node_modules/.bin/tsx");
const cli = path.resolve(import.meta.dirname, "keyward.ts");
const dir = mkdtempSync(path.join(tmpdir(), "keyward-cli-"));
let sim: KubeSim;

function keyward(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      ["--conditions=react-server", cli, ...args],
      { env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL, KEYWARD_SECRET_KEY: secretKey, ...env }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
});
afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("keyward CLI", () => {
  it("bootstraps (an admin, a token shown once and revoked, a cluster from a kubeconfig, synced) and fails with one clear line", { timeout: 180_000 }, async () => {
    const adminKubeconfig = sim.adminKubeconfig();
    const kc = new KubeConfig();
    kc.loadFromString(adminKubeconfig);
    const document = parse(adminKubeconfig) as { users: object[] };
    document.users.push({ name: "keyward-sync", user: { token: await issueSyncToken(kc, 3600) } });
    const kubeconfigFile = path.join(dir, "config");
    writeFileSync(kubeconfigFile, stringify(document));

    const [unknown, noAdmin, noKey, user, added] = await Promise.all([
      keyward(["bogus", "thing"]),
      keyward(["token", "create", "--name", "ci", "--scope", "read", "--expires", "30d", "--created-by", "nobody@example.test"]),
      keyward(["cluster", "add", "--name", "x", "--kubeconfig", kubeconfigFile], { KEYWARD_SECRET_KEY: "" }),
      keyward(["user", "create", "--email", "Root@Example.test", "--name", "Root", "--role", "admin"]),
      keyward(["cluster", "add", "--name", "sim", "--kubeconfig", kubeconfigFile, "--user", "keyward-sync"]),
    ]);
    for (const result of [unknown, noAdmin, noKey]) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(unknown.stderr).toMatch(/^keyward: unknown command "bogus thing"/);
    expect(noAdmin.stderr).toMatch(/no active admin nobody@example\.test/);
    expect(noKey.stderr).toMatch(/KEYWARD_SECRET_KEY is not set/);
    expect(await database.prisma.cluster.findUnique({ where: { name: "x" } })).toBeNull();

    expect(user).toMatchObject({ code: 0, stdout: expect.stringMatching(/^user root@example\.test \(admin\)/) });
    const password = /password: (\S+)/.exec(user.stdout)?.[1] ?? "";
    const stored = await database.prisma.user.findUniqueOrThrow({ where: { email: "root@example.test" } });
    expect(await verifyPassword(password, stored.passwordHash ?? "")).toBe(true);
    expect(added).toMatchObject({ code: 0, stdout: expect.stringMatching(/^cluster sim registered .*credentials: sync\)/) });

    const [token, synced] = await Promise.all([
      keyward(["token", "create", "--name", "terraform", "--scope", "write", "--expires", "30d"]),
      keyward(["cluster", "sync", "sim", "--wait"]),
    ]);
    expect(token.code).toBe(0);
    const plaintext = token.stdout.trim();
    expect(plaintext).toMatch(/^kw_[A-Za-z0-9_-]{43}$/);
    expect(token.stderr).toMatch(/shown once/);
    const row = await database.prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: hashApiToken(plaintext) } });
    expect(row).toMatchObject({ name: "terraform", scope: "write", createdById: stored.id, revokedAt: null });
    expect(synced).toMatchObject({ code: 0, stdout: expect.stringMatching(/^synced sim in \d+ ms: .*serviceaccounts \d+/) });

    const [revoked, listed, clusters] = await Promise.all([
      keyward(["token", "revoke", row.id]),
      keyward(["token", "list"]),
      keyward(["cluster", "list"]),
    ]);
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^revoked ${row.id} "terraform"`)) });
    expect((await database.prisma.apiToken.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).toBeInstanceOf(Date);
    expect(listed.stdout).toContain(`${row.id}\tterraform\twrite`);
    expect(listed.stdout).not.toContain(plaintext);
    expect(clusters.stdout).toMatch(/^sim\t\S+\thttps:\/\/.*\tlast sync 20\d\d-.*\t\d+ identities/);
    const audit = await database.prisma.auditLogEntry.findMany({ where: { actorLabel: "cli" }, select: { action: true } });
    expect(audit.map((a) => a.action).sort()).toEqual(["cluster.register", "token.create", "token.revoke", "user.create"]);
    expect(await database.prisma.apiToken.count({ where: { name: "ci" } })).toBe(0);
  });

  it("imports audit logs: prints the counts and the first reasons, gzip like plain, and fails on a missing file or cluster", { timeout: 120_000 }, async () => {
    const fixtures = path.resolve(import.meta.dirname, "../../../shared/fixtures/real-world/audit");
    await database.prisma.cluster.create({ data: { id: "c-logs", name: "logs", apiServerUrl: "https://logs.example:6443" } });
    const gzipped = path.join(dir, "falco.jsonl.gz");
    writeFileSync(gzipped, gzipSync(readFileSync(path.join(fixtures, "falco-k8s-audit-traces-v1.jsonl"))));

    const [demo, panther, gz, missingFile, missingCluster, noCluster] = await Promise.all([
      keyward(["audit", "import", "--cluster", "logs", path.join(fixtures, "audit2rbac-demo.jsonl")]),
      keyward(["audit", "import", "--cluster", "c-logs", path.join(fixtures, "panther-k8s-rule-tests.jsonl")]),
      keyward(["audit", "import", "--cluster", "logs", gzipped]),
      keyward(["audit", "import", "--cluster", "logs", path.join(dir, "nothing.jsonl")]),
      keyward(["audit", "import", "--cluster", "staging", gzipped]),
      keyward(["audit", "import", gzipped]),
    ]);
    expect(demo).toMatchObject({ code: 0, stdout: "accepted 37, duplicates 0, rejected 0\n" });
    expect(gz).toMatchObject({ code: 0, stdout: "accepted 4, duplicates 0, rejected 0\n" });
    const lines = panther.stdout.trim().split("\n");
    expect(panther.code).toBe(0);
    expect(lines[0]).toBe("accepted 0, duplicates 0, rejected 103");
    expect(lines.slice(1, 11)).toEqual(Array.from({ length: 10 }, () => expect.stringMatching(/^line \d+: \S/)));
    expect(lines[11]).toBe("… 93 more rejected lines");
    expect(panther.stderr).toMatch(/imported into logs as batch \S+/);

    expect(missingFile).toMatchObject({ code: 1, stdout: "", stderr: expect.stringMatching(/^keyward: cannot read .*nothing\.jsonl\n$/) });
    expect(missingCluster).toMatchObject({ code: 1, stdout: "", stderr: expect.stringMatching(/^keyward: no cluster named "staging"/) });
    expect(noCluster).toMatchObject({ code: 1, stderr: expect.stringMatching(/--cluster is required/) });

    const again = await keyward(["audit", "import", "--cluster", "logs", path.join(fixtures, "audit2rbac-demo.jsonl")]);
    expect(again).toMatchObject({ code: 0, stdout: "accepted 0, duplicates 37, rejected 0\n" });
    const batches = await database.prisma.auditIngestBatch.findMany({ where: { clusterId: "c-logs" }, orderBy: { startedAt: "asc" } });
    expect(batches).toHaveLength(4);
    expect(batches.every((b) => b.source === "upload" && b.actorLabel === "cli" && b.status === "completed")).toBe(true);
    expect(batches.map((b) => b.fileName).sort()).toEqual(["audit2rbac-demo.jsonl", "audit2rbac-demo.jsonl", "falco.jsonl.gz", "panther-k8s-rule-tests.jsonl"]);
    const audit = await database.prisma.auditLogEntry.findMany({ where: { action: "cluster.audit_import" } });
    expect(audit).toHaveLength(4);
    expect(audit.every((a) => a.actorLabel === "cli" && a.targetId === "c-logs" && a.outcome === "success")).toBe(true);
  });

  it("verifies the audit trail: intact with its count, or exit 1 naming the first entry edited behind its back", { timeout: 120_000 }, async () => {
    for (const action of ["test.first", "test.second", "test.third"]) await recordAudit(database.prisma, { actor: systemActor("test"), action, outcome: "success" });
    const entries = await database.prisma.auditLogEntry.count();
    expect(await keyward(["audit", "verify"])).toEqual({ code: 0, stdout: `audit trail intact: ${entries} entries\n`, stderr: "" });

    // An edit in place that keeps the stored hash: the entry no longer matches it.
    const victim = await database.prisma.auditLogEntry.findFirstOrThrow({ where: { action: "test.second" } });
    const before = await database.prisma.auditLogEntry.count({ where: { seq: { lt: victim.seq } } });
    await database.prisma.$executeRaw`UPDATE "AuditLogEntry" SET "outcome" = 'denied' WHERE "seq" = ${victim.seq}`;
    try {
      const tampered = await keyward(["audit", "verify"]);
      expect(tampered).toEqual({
        code: 1,
        stdout: "",
        stderr: `keyward: audit trail broken at entry ${victim.seq} (${victim.at.toISOString()} test.second by test): entry content does not match its hash; the ${before} entries before it are intact\n`,
      });
    } finally {
      await database.prisma.$executeRaw`UPDATE "AuditLogEntry" SET "outcome" = 'success' WHERE "seq" = ${victim.seq}`;
    }
    expect(await keyward(["audit", "verify"])).toMatchObject({ code: 0, stdout: `audit trail intact: ${entries} entries\n` });
  });
});
