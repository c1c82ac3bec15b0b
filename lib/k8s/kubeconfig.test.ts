import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { clusterInputFromKubeconfig, KubeconfigError, parseKubeconfig } from "./kubeconfig";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

const kubeconfig = stringify({
  apiVersion: "v1",
  kind: "Config",
  "current-context": "prod-admin",
  clusters: [
    { name: "prod", cluster: { server: "https://prod.example:6443", "certificate-authority-data": b64(CA) } },
    { name: "staging", cluster: { server: "https://staging.example:6443", "certificate-authority": "ca.crt" } },
  ],
  users: [
    { name: "admin", user: { "client-certificate-data": b64(CERT), "client-key-data": b64(KEY) } },
    { name: "keyward-sync", user: { token: "sync-token\n" } },
    { name: "file-user", user: { "client-certificate": "client.crt", "client-key": "keys/client.key" } },
    { name: "eks", user: { exec: { command: "aws", args: ["eks", "get-token"] } } },
    { name: "gke", user: { "auth-provider": { name: "gcp" } } },
  ],
  contexts: [
    { name: "prod-admin", context: { cluster: "prod", user: "admin" } },
    { name: "prod-sync", context: { cluster: "prod", user: "keyward-sync", namespace: "keyward-system" } },
    { name: "staging-files", context: { cluster: "staging", user: "file-user" } },
  ],
});

const dir = mkdtempSync(path.join(tmpdir(), "kubeconfig-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseKubeconfig", () => {
  it("lists clusters, users with their kind of credential, contexts and the current context", () => {
    const parsed = parseKubeconfig(kubeconfig);
    expect(parsed.clusters.map((c) => c.name)).toEqual(["prod", "staging"]);
    expect(parsed.users).toEqual([
      { name: "admin", auth: "clientCertificate", supported: true },
      { name: "keyward-sync", auth: "token", supported: true },
      { name: "file-user", auth: "clientCertificate", supported: true },
      { name: "eks", auth: "exec", supported: false },
      { name: "gke", auth: "authProvider", supported: false },
    ]);
    expect(parsed.contexts[1]).toEqual({ name: "prod-sync", cluster: "prod", user: "keyward-sync", namespace: "keyward-system" });
    expect(parsed.currentContext).toBe("prod-admin");
  });

  it("rejects what is not a kubeconfig with a clear message", () => {
    expect(() => parseKubeconfig("clusters: [ {")).toThrow(/not valid YAML/);
    expect(() => parseKubeconfig(stringify({ clusters: [{ name: "x", cluster: {} }] }))).toThrow(/clusters\.0\.cluster\.server/);
    expect(() => parseKubeconfig("just a string")).toThrow(KubeconfigError);
  });
});

describe("clusterInputFromKubeconfig", () => {
  it("uses the current context when no name is given", () => {
    expect(clusterInputFromKubeconfig(kubeconfig)).toEqual({
      userName: "admin",
      apiServerUrl: "https://prod.example:6443",
      caCertPem: CA,
      secret: { type: "clientCertificate", certificatePem: CERT, privateKeyPem: KEY },
    });
  });

  it("accepts a user name or a context name and trims tokens", () => {
    const byUser = clusterInputFromKubeconfig(kubeconfig, "keyward-sync");
    expect(byUser).toMatchObject({ userName: "keyward-sync", apiServerUrl: "https://prod.example:6443", secret: { type: "token", token: "sync-token" } });
    expect(clusterInputFromKubeconfig(kubeconfig, "prod-sync")).toEqual(byUser);
  });

  it("reads referenced files relative to the kubeconfig only when given its directory", () => {
    expect(() => clusterInputFromKubeconfig(kubeconfig, "staging-files")).toThrow(/refers to the file/);
    writeFileSync(path.join(dir, "ca.crt"), CA);
    writeFileSync(path.join(dir, "client.crt"), CERT);
    expect(() => clusterInputFromKubeconfig(kubeconfig, "file-user", { baseDir: dir })).toThrow(/Cannot read the client-key file .*keys\/client\.key/);
    rmSync(path.join(dir, "keys"), { recursive: true, force: true });
    writeFileSync(path.join(dir, "client.key"), KEY);
    const withKeyDir = kubeconfig.replace("keys/client.key", "client.key");
    expect(clusterInputFromKubeconfig(withKeyDir, "file-user", { baseDir: dir })).toEqual({
      userName: "file-user",
      apiServerUrl: "https://staging.example:6443",
      caCertPem: CA,
      secret: { type: "clientCertificate", certificatePem: CERT, privateKeyPem: KEY },
    });
  });

  it("says plainly that exec plugins and auth providers are not supported", () => {
    expect(() => clusterInputFromKubeconfig(kubeconfig, "eks")).toThrow(/exec plugin, which Keyward does not run/);
    expect(() => clusterInputFromKubeconfig(kubeconfig, "gke")).toThrow(/auth provider/);
    expect(() => clusterInputFromKubeconfig(kubeconfig, "nobody")).toThrow(/no user or context named "nobody" \(users: admin, keyward-sync/);
  });
});
