import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { startKubeSim } from "./index";

const usage = `Usage: npm run kube-sim -- [options]
  --port N                 port to listen on (default 6443; 0 = random)
  --host ADDR              address to listen on (default 127.0.0.1)
  --load PATH              manifest file or directory (repeatable)
  --demo                   load the demo cluster
  --scale N                generate a cluster with N ServiceAccounts (about 10 objects each)
  --kubeconfig-out FILE    write the admin kubeconfig here (default ./kube-sim.kubeconfig)
  --watch-history N        changes that watches and continue tokens can reach back over (default 10000)
  --latency-ms N           fault: add N ms to every API request
  --throttle-ratio R       fault: answer 429 to this fraction of requests
  --error-ratio R          fault: answer 500 to this fraction of requests
  --drop-ratio R           fault: drop the connection mid-response for this fraction of requests
  --audit-webhook-url URL  send audit events (audit.k8s.io/v1 EventList) of served requests here
  --audit-webhook-token T  bearer token for the audit webhook (required with --audit-webhook-url)
  --audit-webhook-ca FILE  PEM CA that signed an https webhook's certificate
  --audit-webhook-batch-max-wait-ms N   how long a partial batch waits (default 30000)`;

const number = z.coerce.number().finite().nonnegative();
const ratio = z.coerce.number().min(0).max(1);
const argsSchema = z.object({
  port: number.default(6443),
  host: z.string().default("127.0.0.1"),
  load: z.array(z.string()).default([]),
  demo: z.boolean().default(false),
  scale: number.optional(),
  "kubeconfig-out": z.string().default("kube-sim.kubeconfig"),
  "watch-history": number.optional(),
  "latency-ms": number.optional(),
  "throttle-ratio": ratio.optional(),
  "error-ratio": ratio.optional(),
  "drop-ratio": ratio.optional(),
  "audit-webhook-url": z.url({ protocol: /^https?$/ }).optional(),
  "audit-webhook-token": z.string().min(1).optional(),
  "audit-webhook-ca": z.string().optional(),
  "audit-webhook-batch-max-wait-ms": number.optional(),
  help: z.boolean().default(false),
}).refine((a) => !a["audit-webhook-url"] || a["audit-webhook-token"], { message: "--audit-webhook-url needs --audit-webhook-token", path: ["audit-webhook-token"] });

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      load: { type: "string", multiple: true },
      demo: { type: "boolean" },
      scale: { type: "string" },
      "kubeconfig-out": { type: "string" },
      "watch-history": { type: "string" },
      "latency-ms": { type: "string" },
      "throttle-ratio": { type: "string" },
      "error-ratio": { type: "string" },
      "drop-ratio": { type: "string" },
      "audit-webhook-url": { type: "string" },
      "audit-webhook-token": { type: "string" },
      "audit-webhook-ca": { type: "string" },
      "audit-webhook-batch-max-wait-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success || parsed.data.help) {
    if (!parsed.success) console.error(z.prettifyError(parsed.error));
    console.error(usage);
    process.exit(parsed.success ? 0 : 2);
  }
  const args = parsed.data;
  const started = Date.now();
  const sim = await startKubeSim({
    host: args.host,
    port: args.port,
    loadPaths: args.load,
    demo: args.demo,
    scale: args.scale,
    watchHistory: args["watch-history"],
    ...(args["audit-webhook-url"]
      ? {
          auditWebhook: {
            url: args["audit-webhook-url"],
            token: args["audit-webhook-token"]!,
            ...(args["audit-webhook-ca"] ? { caPem: await readFile(args["audit-webhook-ca"], "utf8") } : {}),
            batchMaxWaitMs: args["audit-webhook-batch-max-wait-ms"],
          },
        }
      : {}),
  });
  sim.faults.set({
    ...(args["latency-ms"] ? { latencyMs: args["latency-ms"] } : {}),
    ...(args["throttle-ratio"] ? { tooManyRequests: { ratio: args["throttle-ratio"] } } : {}),
    ...(args["error-ratio"] ? { serverErrors: { ratio: args["error-ratio"] } } : {}),
    ...(args["drop-ratio"] ? { dropConnections: { ratio: args["drop-ratio"] } } : {}),
  });
  const kubeconfigFile = path.resolve(args["kubeconfig-out"]);
  await writeFile(kubeconfigFile, sim.adminKubeconfig(), { mode: 0o600 });

  const { loaded, skipped } = sim.seedReport;
  const skippedTotal = Object.values(skipped).reduce((a, b) => a + b, 0);
  console.log(`kube-sim listening on ${sim.url} (started in ${Date.now() - started} ms)`);
  console.log(`objects loaded: ${loaded}; skipped (kinds not served): ${skippedTotal}`);
  for (const [kind, count] of Object.entries(skipped).sort((a, b) => b[1] - a[1])) console.log(`  skipped ${count} ${kind}`);
  console.log(`admin kubeconfig: ${kubeconfigFile}`);
  if (args["audit-webhook-url"]) console.log(`audit webhook: ${args["audit-webhook-url"]}`);
  console.log(`try: kubectl --kubeconfig ${kubeconfigFile} get serviceaccounts -A`);

  const shutdown = (signal: string) => {
    console.log(`${signal}: stopping kube-sim`);
    void sim.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
