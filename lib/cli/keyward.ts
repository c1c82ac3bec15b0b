// `npm run keyward -- <command>`: the admin CLI for bootstrapping and automation. It works on the app's database
// (DATABASE_URL, else the embedded one in .keyward/pgdata), migrating it first. Errors: one line on stderr, exit 1.
import { readFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { getPrisma } from "@/lib/db";
import { migrate } from "@/lib/db/migrate";
import { recordAudit, systemActor, verifyAuditChain } from "@/lib/audit/log";
import { createApiToken, listApiTokens, parseExpiry, revokeApiToken, apiTokenScopeSchema } from "@/lib/auth/api-tokens";
import { generatePassword } from "@/lib/auth/password";
import { userRoleSchema } from "@/lib/auth/permissions";
import { upsertUser } from "@/lib/auth/users";
import { loadSecretKey } from "@/lib/crypto/secret-box";
import { ApiError } from "@/lib/api/errors";

// The embedded database, the Kubernetes client and the job queue are imported by the commands that need them:
// on a busy machine, loading them all would cost every command seconds.

const USAGE = `Usage: npm run keyward -- <command>

  user create --email <e-mail> --name <name> --role admin|security|owner|auditor [--password <p> | --password-stdin]
  token create --name <name> --scope read|write --expires <30d|12h|1y|ISO date> [--created-by <admin e-mail>]
  token list
  token revoke <id>
  cluster add --name <name> --kubeconfig <file> [--user <user|context>]
              [--remediation-kubeconfig <file> [--remediation-user <user|context>]]
  cluster list
  cluster sync <name> [--wait]
  audit import --cluster <name> <file>       (an audit log: JSON lines, plain or gzip)
  audit verify                               (Keyward's own audit trail: exit 1 at the first edited, deleted or reordered entry)

Database: DATABASE_URL, else the embedded database in .keyward/pgdata. Cluster credentials need KEYWARD_SECRET_KEY.`;

/** A problem the operator can fix: printed as one line, without a stack trace. */
class CliError extends Error {}

const cliActor = systemActor("cli");
const out = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`${line}\n`);

function parse<T extends Record<string, { type: "string" | "boolean" }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

function required(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== "string" || value === "") throw new CliError(`--${flag} is required`);
  return value;
}

function valid<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CliError(`${what}: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
  return parsed.data;
}

function readStdin(): string {
  return readFileSync(0, "utf8").replace(/\r?\n$/, "");
}

function readFile(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new CliError(`--${flag}: cannot read ${file}`);
  }
}

function requireSecretKey(): void {
  try {
    loadSecretKey();
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

async function findCluster(nameOrId: string) {
  const cluster = await getPrisma().cluster.findFirst({ where: { OR: [{ name: nameOrId }, { id: nameOrId }] }, select: { id: true, name: true } });
  if (!cluster) throw new CliError(`no cluster named "${nameOrId}" (see: cluster list)`);
  return cluster;
}

async function userCreate(args: string[]): Promise<void> {
  const { values } = parse(args, {
    email: { type: "string" },
    name: { type: "string" },
    role: { type: "string" },
    password: { type: "string" },
    "password-stdin": { type: "boolean" },
  });
  const email = valid(z.email(), required(values.email, "email"), "--email");
  const role = valid(userRoleSchema, required(values.role, "role"), "--role");
  const generated = !values.password && !values["password-stdin"];
  const password = values["password-stdin"] ? readStdin() : (values.password ?? generatePassword());
  if (password.length < 12) throw new CliError("the password must have at least 12 characters");
  const user = await upsertUser({ email, name: required(values.name, "name"), role, password });
  await recordAudit(getPrisma(), { actor: cliActor, action: "user.create", target: { type: "user", id: user.id }, outcome: "success", details: { role } });
  out(`user ${user.email} (${user.role}) id ${user.id}`);
  if (generated) out(`password: ${password}   (shown once: store it now)`);
}

async function tokenCreate(args: string[]): Promise<void> {
  const { values } = parse(args, { name: { type: "string" }, scope: { type: "string" }, expires: { type: "string" }, "created-by": { type: "string" } });
  const name = required(values.name, "name");
  const scope = valid(apiTokenScopeSchema, required(values.scope, "scope"), "--scope");
  let expiresAt: Date;
  try {
    expiresAt = parseExpiry(required(values.expires, "expires"));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--expires: ${error instanceof Error ? error.message : String(error)}`);
  }
  const db = getPrisma();
  // A token is always issued by an administrator, who answers for it in the admin page and the audit trail.
  const admin = await db.user.findFirst({
    where: { role: "admin", disabled: false, ...(values["created-by"] ? { email: values["created-by"].trim().toLowerCase() } : {}) },
    orderBy: { createdAt: "asc" },
    select: { id: true, email: true },
  });
  if (!admin) throw new CliError(values["created-by"] ? `no active admin ${values["created-by"]}` : "no admin user yet: create one with `user create --role admin`");
  const result = await createApiToken(db, { name, scope, expiresAt, createdById: admin.id }).catch((error: unknown) => {
    if (error instanceof z.ZodError) throw new CliError(error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; "));
    throw error;
  });
  await recordAudit(db, { actor: cliActor, action: "token.create", target: { type: "apiToken", id: result.id }, outcome: "success", details: { name, scope, createdBy: admin.email } });
  note(`token ${result.id} "${name}" (${scope}) expires ${result.expiresAt.toISOString()}; shown once, store it now:`);
  out(result.token);
}

async function tokenList(): Promise<void> {
  const now = new Date();
  for (const token of await listApiTokens(getPrisma())) {
    const state = token.revokedAt ? "revoked" : token.expiresAt <= now ? "expired" : "active";
    out(
      [token.id, token.name, token.scope, state, `expires ${token.expiresAt.toISOString()}`, `last used ${token.lastUsedAt?.toISOString() ?? "never"}`].join("\t"),
    );
  }
}

async function tokenRevoke(args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  const id = positionals[0];
  if (!id) throw new CliError("token revoke needs the token id (see: token list)");
  const revoked = await revokeApiToken(getPrisma(), id);
  if (!revoked) throw new CliError(`no token with id ${id}`);
  await recordAudit(getPrisma(), { actor: cliActor, action: "token.revoke", target: { type: "apiToken", id }, outcome: "success" });
  out(`revoked ${revoked.id} "${revoked.name}" at ${revoked.revokedAt.toISOString()}`);
}

async function clusterAdd(args: string[]): Promise<void> {
  const { values } = parse(args, {
    name: { type: "string" },
    kubeconfig: { type: "string" },
    user: { type: "string" },
    "remediation-kubeconfig": { type: "string" },
    "remediation-user": { type: "string" },
  });
  const kubeconfigFile = path.resolve(required(values.kubeconfig, "kubeconfig"));
  const remediationFile = values["remediation-kubeconfig"] ? path.resolve(values["remediation-kubeconfig"]) : undefined;
  if (values["remediation-user"] && !remediationFile) throw new CliError("--remediation-user needs --remediation-kubeconfig");
  const { registrationFromBody } = await import("@/lib/api/clusters");
  const { registerCluster } = await import("@/lib/clusters/register-cluster");
  let input;
  try {
    input = registrationFromBody(
      {
        name: required(values.name, "name"),
        kubeconfig: readFile(kubeconfigFile, "kubeconfig"),
        user: values.user,
        remediationKubeconfig: remediationFile && readFile(remediationFile, "remediation-kubeconfig"),
        remediationUser: values["remediation-user"],
      },
      { baseDir: path.dirname(kubeconfigFile), remediationBaseDir: remediationFile && path.dirname(remediationFile) },
    );
  } catch (error) {
    if (error instanceof ApiError) throw new CliError(error.message);
    if (error instanceof z.ZodError) throw new CliError(error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
    throw error;
  }
  const cluster = await registerCluster(input);
  await recordAudit(getPrisma(), { actor: cliActor, action: "cluster.register", target: { type: "cluster", id: cluster.id }, outcome: "success" });
  out(`cluster ${cluster.name} registered (id ${cluster.id}, ${input.apiServerUrl}; credentials: sync${input.remediation ? ", remediation" : ""})`);
}

async function clusterList(): Promise<void> {
  const clusters = await getPrisma().cluster.findMany({
    orderBy: { name: "asc" },
    select: { id: true, name: true, apiServerUrl: true, status: true, lastSyncAt: true, _count: { select: { identities: { where: { deletedAt: null } } } } },
  });
  for (const c of clusters) {
    out([c.name, c.id, c.apiServerUrl, c.status, `last sync ${c.lastSyncAt?.toISOString() ?? "never"}`, `${c._count.identities} identities`].join("\t"));
  }
}

async function clusterSync(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { wait: { type: "boolean" } });
  if (!positionals[0]) throw new CliError("cluster sync needs the cluster name (see: cluster list)");
  const cluster = await findCluster(positionals[0]);
  if (!values.wait) {
    const { enqueueClusterSync, closeJobQueue } = await import("@/lib/jobs");
    const jobId = await enqueueClusterSync(cluster.id, "manual").finally(closeJobQueue);
    out(`sync of ${cluster.name} queued (job ${jobId}); the worker (npm run worker) runs it`);
    return;
  }
  // Waiting runs it here, so it works without a worker (a fresh embedded install, CI).
  const { syncCluster } = await import("@/lib/sync/sync-cluster");
  const outcome = await syncCluster(cluster.id, "manual");
  if (!outcome.ok) throw new CliError(`sync of ${cluster.name} failed after ${outcome.durationMs} ms: ${outcome.error}`);
  const counts = Object.entries(outcome.counts)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  out(`synced ${cluster.name} in ${outcome.durationMs} ms: ${counts}`);
}

/** Streams an audit log file into the cluster's usage, as an upload does: the file is never read whole. */
async function auditImport(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { cluster: { type: "string" } });
  if (!positionals[0]) throw new CliError("audit import needs the audit log file");
  const file = path.resolve(positionals[0]);
  const cluster = await findCluster(required(values.cluster, "cluster"));
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
    if (!(await handle.stat()).isFile()) throw new Error("not a file");
  } catch {
    throw new CliError(`cannot read ${positionals[0]}`);
  }
  const { importAuditLog, EmptyAuditLogError } = await import("@/lib/usage/import-file");
  const { AuditInputCorruptError, AuditInputTooLargeError } = await import("@/lib/usage/read-records");
  const db = getPrisma();
  let outcome;
  try {
    outcome = await importAuditLog(db, { clusterId: cluster.id, fileName: path.basename(file), actorLabel: cliActor.label }, handle.createReadStream(), {
      // A large log takes a while: each committed chunk says how far it got (on stderr; stdout has the result).
      onProgress: ({ accepted, duplicates, rejected }) =>
        note(`committed ${accepted + duplicates + rejected} records so far (accepted ${accepted}, duplicates ${duplicates}, rejected ${rejected})`),
    });
  } catch (error) {
    if (error instanceof EmptyAuditLogError || error instanceof AuditInputTooLargeError || error instanceof AuditInputCorruptError) {
      throw new CliError(`${positionals[0]}: ${error.message}`);
    }
    throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
  const { batchId, accepted, duplicates, rejected, sampleReasons } = outcome;
  await recordAudit(db, {
    actor: cliActor,
    action: "cluster.audit_import",
    target: { type: "cluster", id: cluster.id },
    outcome: "success",
    details: { batchId, fileName: path.basename(file), accepted, duplicates, rejected },
  });
  out(`accepted ${accepted}, duplicates ${duplicates}, rejected ${rejected}`);
  for (const { line, reason } of sampleReasons.slice(0, 10)) out(`line ${line}: ${reason}`);
  if (rejected > Math.min(sampleReasons.length, 10)) out(`… ${rejected - Math.min(sampleReasons.length, 10)} more rejected lines`);
  note(`imported into ${cluster.name} as batch ${batchId}`);
}

/** Recomputes Keyward's hash-chained audit trail; a break is an error naming the first entry that does not hold. */
async function auditVerify(args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  if (positionals.length > 0) throw new CliError("audit verify takes no arguments");
  const db = getPrisma();
  const result = await verifyAuditChain(db);
  if (result.ok) {
    out(`audit trail intact: ${result.entries} entries`);
    return;
  }
  const entry = await db.auditLogEntry.findUnique({ where: { seq: result.brokenAtSeq }, select: { at: true, action: true, actorLabel: true } });
  const what = entry ? ` (${entry.at.toISOString()} ${entry.action} by ${entry.actorLabel})` : "";
  throw new CliError(`audit trail broken at entry ${result.brokenAtSeq}${what}: ${result.reason}; the ${result.entries} entries before it are intact`);
}

// Checked before the database is opened, so a missing key fails at once.
const needsSecretKey = new Set(["cluster add", "cluster sync"]);

const commands: Record<string, (args: string[]) => Promise<void>> = {
  "user create": userCreate,
  "token create": tokenCreate,
  "token list": tokenList,
  "token revoke": tokenRevoke,
  "cluster add": clusterAdd,
  "cluster list": clusterList,
  "cluster sync": clusterSync,
  "audit import": auditImport,
  "audit verify": auditVerify,
};

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "help") {
    out(USAGE);
    return;
  }
  const name = `${argv[0]} ${argv[1] ?? ""}`;
  const command = commands[name];
  if (!command) throw new CliError(`unknown command "${argv.slice(0, 2).join(" ")}" (see: npm run keyward -- --help)`);
  if (needsSecretKey.has(name)) requireSecretKey();
  const database = process.env.DATABASE_URL
    ? { url: process.env.DATABASE_URL, stop: async () => undefined }
    : await (await import("@/lib/db/embedded")).startEmbeddedPostgres();
  process.env.DATABASE_URL = database.url;
  try {
    await migrate(database.url);
    await command(argv.slice(2));
  } finally {
    await getPrisma()
      .$disconnect()
      .catch(() => undefined);
    await database.stop();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`keyward: ${message.split("\n")[0]}\n`);
    process.exit(1);
  },
);
