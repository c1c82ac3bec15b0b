import { postAuditWebhook } from "@/lib/usage/webhook-ingest";

// kube-apiserver's audit webhook backend posts here with the cluster's ingest token (see lib/usage/webhook-setup.ts).
export const POST = postAuditWebhook;
