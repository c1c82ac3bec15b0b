import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { ClusterSecret } from "./credentials";

/**
 * Reads the kubeconfig an operator already has, so registering a cluster is "upload it and pick the user".
 * Only static credentials are supported: exec plugins and auth providers run code or refresh tokens on the
 * client, which a server must not do on an operator's behalf.
 */

// kubectl writes `users: null` for an empty list.
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((list) => list ?? []);
const entryName = z.string().min(1);

const kubeconfigSchema = z.object({
  clusters: listOf(
    z.object({
      name: entryName,
      cluster: z.looseObject({
        server: z.string().min(1),
        "certificate-authority-data": z.string().optional(),
        "certificate-authority": z.string().optional(),
      }),
    }),
  ),
  users: listOf(
    z.object({
      name: entryName,
      user: z
        .looseObject({
          token: z.string().optional(),
          tokenFile: z.string().optional(),
          "client-certificate-data": z.string().optional(),
          "client-key-data": z.string().optional(),
          "client-certificate": z.string().optional(),
          "client-key": z.string().optional(),
          exec: z.unknown().optional(),
          "auth-provider": z.unknown().optional(),
          username: z.string().optional(),
        })
        .nullish()
        .transform((user) => user ?? {}),
    }),
  ),
  contexts: listOf(
    z.object({
      name: entryName,
      context: z.looseObject({
        cluster: z.string().min(1),
        user: z.string().min(1),
        namespace: z.string().optional(),
      }),
    }),
  ),
  "current-context": z.string().optional(),
});
type RawKubeconfig = z.infer<typeof kubeconfigSchema>;
type RawUser = RawKubeconfig["users"][number]["user"];

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeconfigError";
  }
}

export type KubeconfigAuth = "token" | "clientCertificate" | "exec" | "authProvider" | "basic" | "none";

export interface ParsedKubeconfig {
  clusters: { name: string; server: string }[];
  users: { name: string; auth: KubeconfigAuth; supported: boolean }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext: string | null;
  raw: RawKubeconfig;
}

function authOf(user: RawUser): KubeconfigAuth {
  if (user.exec) return "exec";
  if (user["auth-provider"]) return "authProvider";
  if (user.token || user.tokenFile) return "token";
  if (user["client-certificate-data"] || user["client-certificate"]) return "clientCertificate";
  if (user.username) return "basic";
  return "none";
}

/** Parses and validates a kubeconfig; lists its clusters, users (with how they authenticate) and contexts. */
export function parseKubeconfig(yamlText: string): ParsedKubeconfig {
  let document: unknown;
  try {
    document = parseYaml(yamlText);
  } catch (error) {
    throw new KubeconfigError(
      `The kubeconfig is not valid YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    );
  }
  const parsed = kubeconfigSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KubeconfigError(
      `The kubeconfig is not valid: ${issue.path.join(".") || "document"}: ${issue.message}`,
    );
  }
  const raw = parsed.data;
  return {
    clusters: raw.clusters.map((c) => ({ name: c.name, server: c.cluster.server })),
    users: raw.users.map((u) => {
      const auth = authOf(u.user);
      return { name: u.name, auth, supported: auth === "token" || auth === "clientCertificate" };
    }),
    contexts: raw.contexts.map((c) => ({ name: c.name, ...c.context })),
    currentContext: raw["current-context"] || null,
    raw,
  };
}

export interface KubeconfigClusterInput {
  /** The user the credential came from, for messages. */
  userName: string;
  apiServerUrl: string;
  caCertPem: string | null;
  secret: ClusterSecret;
}

export interface KubeconfigOptions {
  /**
   * The kubeconfig's directory, to read `certificate-authority`, `client-certificate`, `client-key` and
   * `tokenFile` paths relative to it (the CLI). Without it, only embedded `-data` fields are accepted (uploads).
   */
  baseDir?: string;
}

function readReferenced(file: string, what: string, options: KubeconfigOptions): string {
  if (!options.baseDir)
    throw new KubeconfigError(
      `The kubeconfig refers to the file ${file} for the ${what}; embed it (${what}-data) instead.`,
    );
  const resolved = path.resolve(options.baseDir, file);
  try {
    return readFileSync(resolved, "utf8");
  } catch {
    throw new KubeconfigError(`Cannot read the ${what} file ${resolved}.`);
  }
}

const decodeBase64 = (data: string) => Buffer.from(data, "base64").toString("utf8");

function material(
  data: string | undefined,
  file: string | undefined,
  what: string,
  options: KubeconfigOptions,
): string | undefined {
  if (data) return decodeBase64(data);
  if (file) return readReferenced(file, what, options);
  return undefined;
}

function secretOf(userName: string, user: RawUser, options: KubeconfigOptions): ClusterSecret {
  const auth = authOf(user);
  switch (auth) {
    case "exec":
      throw new KubeconfigError(
        `The user "${userName}" gets its credential from an exec plugin, which Keyward does not run: create a token or client certificate for it (see deploy/).`,
      );
    case "authProvider":
      throw new KubeconfigError(
        `The user "${userName}" uses an auth provider, which Keyward does not support: use a token or client certificate.`,
      );
    case "basic":
      throw new KubeconfigError(
        `The user "${userName}" uses a username and password, which Kubernetes no longer supports: use a token or client certificate.`,
      );
    case "none":
      throw new KubeconfigError(`The user "${userName}" has no credential (token or client certificate).`);
    case "token": {
      const token = (user.token ?? readReferenced(user.tokenFile ?? "", "token", options)).trim();
      return { type: "token", token };
    }
    case "clientCertificate": {
      const certificatePem = material(
        user["client-certificate-data"],
        user["client-certificate"],
        "client-certificate",
        options,
      );
      const privateKeyPem = material(user["client-key-data"], user["client-key"], "client-key", options);
      if (!certificatePem || !privateKeyPem)
        throw new KubeconfigError(`The user "${userName}" has a client certificate but no key.`);
      return { type: "clientCertificate", certificatePem, privateKeyPem };
    }
  }
}

/**
 * The API server, CA and credential for `name` (a context or a user; the current context when omitted).
 * A user named directly is paired with the cluster of the first context that uses it, else the current one.
 */
export function clusterInputFromKubeconfig(
  yamlText: string,
  name?: string,
  options: KubeconfigOptions = {},
): KubeconfigClusterInput {
  const config = parseKubeconfig(yamlText);
  const { raw } = config;
  const current = raw.contexts.find((c) => c.name === config.currentContext);
  let userName: string;
  let context = current;
  if (name === undefined) {
    if (!current)
      throw new KubeconfigError("The kubeconfig has no current context: name the user or context to use.");
    userName = current.context.user;
  } else {
    const named = raw.contexts.find((c) => c.name === name);
    if (named) {
      context = named;
      userName = named.context.user;
    } else if (raw.users.some((u) => u.name === name)) {
      userName = name;
      context =
        raw.contexts.find((c) => c.context.user === name) ??
        current ??
        (raw.contexts.length === 1 ? raw.contexts[0] : undefined);
    } else {
      const known = raw.users.map((u) => u.name).join(", ") || "none";
      throw new KubeconfigError(`The kubeconfig has no user or context named "${name}" (users: ${known}).`);
    }
  }
  const user = raw.users.find((u) => u.name === userName);
  if (!user)
    throw new KubeconfigError(
      `The context refers to the user "${userName}", which the kubeconfig does not define.`,
    );
  const clusterName =
    context?.context.cluster ?? (raw.clusters.length === 1 ? raw.clusters[0].name : undefined);
  const cluster = raw.clusters.find((c) => c.name === clusterName);
  if (!cluster)
    throw new KubeconfigError(
      `Cannot tell which cluster the user "${userName}" belongs to: add a context for it.`,
    );
  return {
    userName,
    apiServerUrl: cluster.cluster.server,
    caCertPem:
      material(
        cluster.cluster["certificate-authority-data"],
        cluster.cluster["certificate-authority"],
        "certificate-authority",
        options,
      ) ?? null,
    secret: secretOf(userName, user.user, options),
  };
}
