import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AUDIT_POLICY_YAML, KUBE_APISERVER_AUDIT_FLAGS, webhookKubeconfig } from "./webhook-setup";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBkeyward\n-----END CERTIFICATE-----\n";

describe("webhook setup", () => {
  it("the webhook kubeconfig points kube-apiserver at the cluster's ingest endpoint with its token and CA", () => {
    const kc = new KubeConfig();
    kc.loadFromString(
      webhookKubeconfig({
        keywardUrl: "https://keyward.example.com/",
        clusterId: "c-123",
        token: "kwa_abc",
        caPem: CA,
      }),
    );
    expect(kc.getCurrentCluster()?.server).toBe("https://keyward.example.com/api/v1/clusters/c-123/audit");
    expect(Buffer.from(kc.getCurrentCluster()!.caData!, "base64").toString()).toBe(CA);
    expect(kc.getCurrentUser()?.token).toBe("kwa_abc");

    const plain = new KubeConfig();
    plain.loadFromString(
      webhookKubeconfig({ keywardUrl: "http://127.0.0.1:3000", clusterId: "c-1", token: "kwa_x" }),
    );
    expect(plain.getCurrentCluster()?.server).toBe("http://127.0.0.1:3000/api/v1/clusters/c-1/audit");
    expect(plain.getCurrentCluster()?.caData).toBeUndefined();
  });

  it("the audit policy is an audit.k8s.io/v1 Policy at Metadata level that never drops a service account's requests", () => {
    const policy = parse(AUDIT_POLICY_YAML) as {
      apiVersion: string;
      kind: string;
      omitStages: string[];
      rules: Array<{ level: string; users?: string[]; userGroups?: string[] }>;
    };
    expect(policy).toMatchObject({
      apiVersion: "audit.k8s.io/v1",
      kind: "Policy",
      omitStages: ["RequestReceived"],
    });
    const last = policy.rules.at(-1)!;
    expect(last).toEqual({ level: "Metadata" });
    for (const rule of policy.rules.slice(0, -1)) {
      expect(rule.level).toBe("None");
      // Every skip rule is narrowed to named control-plane users or groups, none of them service accounts.
      const who = [...(rule.users ?? []), ...(rule.userGroups ?? [])];
      expect(who.length).toBeGreaterThan(0);
      for (const name of who) expect(name).not.toMatch(/^system:serviceaccount/);
    }
    expect(KUBE_APISERVER_AUDIT_FLAGS).toMatch(/--audit-webhook-config-file=\S+/);
    expect(KUBE_APISERVER_AUDIT_FLAGS).toMatch(/--audit-policy-file=\S+/);
  });
});
