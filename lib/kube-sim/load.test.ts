import { readdir } from "node:fs/promises";
import path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import * as x509 from "@peculiar/x509";
import "./pki"; // sets @peculiar/x509's crypto provider
import { startKubeSim } from "./index";
import { bootstrapObjects } from "./bootstrap";
import { expandWorkloads, loadManifestFiles } from "./manifests";
import { findKind } from "./resources";

const fixtures = path.resolve(import.meta.dirname, "../../../shared/fixtures/real-world/rbac");

describe("seeding the simulator", () => {
  it("loads every real-world RBAC manifest through loadPaths", async () => {
    const files = (await readdir(fixtures)).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThan(20);
    const sim = await startKubeSim({ loadPaths: [fixtures] });
    try {
      const expected = expandWorkloads(await loadManifestFiles([fixtures], { defaultNamespaceFromFileName: true }));
      const served = expected.filter((o) => findKind(o.apiVersion, o.kind) && !findKind(o.apiVersion, o.kind)!.virtual);
      expect(sim.seedReport.loaded).toBe(bootstrapObjects().length + served.length);
      expect(Object.values(sim.seedReport.skipped).reduce((a, b) => a + b, 0)).toBe(expected.length - served.length);
      for (const object of served) {
        const stored = sim.get({ apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace ?? "default", name: object.metadata.name });
        expect(stored, `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`).toBeDefined();
      }
      // Namespaces the manifests use were created, each with its default ServiceAccount.
      for (const object of served.filter((o) => o.metadata.namespace)) {
        expect(sim.get({ apiVersion: "v1", kind: "Namespace", name: object.metadata.namespace! })).toBeDefined();
      }
      for (const ns of sim.list("v1", "Namespace")) {
        expect(sim.get({ apiVersion: "v1", kind: "ServiceAccount", namespace: ns.metadata.name, name: "default" })).toBeDefined();
      }
      const kc = new KubeConfig();
      kc.loadFromString(sim.adminKubeconfig());
      const listed = await kc.makeApiClient(CoreV1Api).listServiceAccountForAllNamespaces();
      expect(listed.items.length).toBe(sim.list("v1", "ServiceAccount").length);
    } finally {
      await sim.stop();
    }
  });

  it("keeps seeded creation timestamps, fills legacy token Secrets and signs seeded approved CSRs", async () => {
    const old = "2021-03-04T05:06:07Z";
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=ci-bot, O=ci", keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } });
    const sim = await startKubeSim({
      objects: [
        {
          apiVersion: "certificates.k8s.io/v1",
          kind: "CertificateSigningRequest",
          metadata: { name: "ci-bot", creationTimestamp: old },
          spec: { request: Buffer.from(csr.toString("pem")).toString("base64"), signerName: "kubernetes.io/kube-apiserver-client", expirationSeconds: 100, usages: ["client auth"] },
          status: { conditions: [{ type: "Approved", status: "True", reason: "Seeded" }] },
        },
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "legacy", namespace: "old-team", creationTimestamp: old } },
        {
          apiVersion: "v1",
          kind: "Secret",
          type: "kubernetes.io/service-account-token",
          metadata: { name: "legacy-token", namespace: "old-team", creationTimestamp: old, annotations: { "kubernetes.io/service-account.name": "legacy" } },
        },
      ],
    });
    try {
      const signed = sim.get({ apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", name: "ci-bot" })!;
      const certificate = new x509.X509Certificate(Buffer.from((signed.status as { certificate: string }).certificate, "base64").toString());
      expect(certificate.subject).toBe("CN=ci-bot, O=ci");
      expect(certificate.notBefore.toISOString()).toBe("2021-03-04T05:06:07.000Z");
      expect(certificate.notAfter.getTime() - certificate.notBefore.getTime()).toBe(600_000); // minimum 10 minutes
      expect(await certificate.verify({ publicKey: new x509.X509Certificate(sim.caPem).publicKey, signatureOnly: true })).toBe(true);

      const sa = sim.get({ apiVersion: "v1", kind: "ServiceAccount", namespace: "old-team", name: "legacy" })!;
      expect(sa.metadata.creationTimestamp).toBe(old);
      expect(sim.get({ apiVersion: "v1", kind: "Namespace", name: "old-team" })).toBeDefined();
      const secret = sim.get({ apiVersion: "v1", kind: "Secret", namespace: "old-team", name: "legacy-token" })!;
      expect(secret.metadata.creationTimestamp).toBe(old);
      expect(secret.metadata.annotations?.["kubernetes.io/service-account.uid"]).toBe(sa.metadata.uid);
      const data = secret.data as Record<string, string>;
      expect(Buffer.from(data.namespace, "base64").toString()).toBe("old-team");
      expect(Buffer.from(data["ca.crt"], "base64").toString()).toBe(sim.caPem);
      const token = Buffer.from(data.token, "base64").toString();

      const kc = new KubeConfig();
      kc.loadFromString(sim.kubeconfigFor({ username: "placeholder" }).replace(/token: .*/, `token: ${token}`));
      const review = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "old-team" }).catch((e: { code?: number }) => e.code);
      expect(review).toBe(403); // authenticated as the ServiceAccount, which has no grants
      sim.delete({ apiVersion: "v1", kind: "Secret", namespace: "old-team", name: "legacy-token" });
      const revoked = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "old-team" }).catch((e: { code?: number }) => e.code);
      expect(revoked).toBe(401);
    } finally {
      await sim.stop();
    }
  });

  it("serves the demo cluster", async () => {
    const sim = await startKubeSim({ demo: true });
    try {
      expect(sim.seedReport.loaded).toBeGreaterThan(50);
      expect(sim.list("v1", "ServiceAccount").length).toBeGreaterThan(4);
    } finally {
      await sim.stop();
    }
  });
});
