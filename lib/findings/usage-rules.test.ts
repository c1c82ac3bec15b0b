import { describe, expect, it } from "vitest";
import { analysisSettings } from "./settings";
import { humanClient, outsideCidrs, usageWindowStart } from "./usage-rules";

describe("usage settings", () => {
  it("defaults, and falls back per setting on invalid values", () => {
    expect(analysisSettings({})).toMatchObject({ usageWindowDays: 90, clusterCidrs: [], usageRetentionDays: 400 });
    expect(analysisSettings({ usageWindowDays: 30, clusterCidrs: ["10.0.0.0/8", "2001:db8::/32"], usageRetentionDays: 60 })).toMatchObject({
      usageWindowDays: 30,
      clusterCidrs: ["10.0.0.0/8", "2001:db8::/32"],
      usageRetentionDays: 60,
    });
    expect(analysisSettings({ usageWindowDays: -1, clusterCidrs: ["10.0.0.0/33"], usageRetentionDays: "a year", rotationDays: 30 })).toMatchObject({
      usageWindowDays: 90,
      clusterCidrs: [],
      usageRetentionDays: 400,
      rotationDays: 30,
    });
    expect(analysisSettings({ clusterCidrs: "10.0.0.0/8" }).clusterCidrs).toEqual([]);
  });
});

describe("usage rules", () => {
  it("the window is whole UTC days, today included", () => {
    expect(usageWindowStart(new Date("2026-11-27T15:30:00Z"), 1).toISOString()).toBe("2026-11-27T00:00:00.000Z");
    expect(usageWindowStart(new Date("2026-11-27T15:30:00Z"), 90).toISOString()).toBe("2026-08-30T00:00:00.000Z");
  });

  it("interactive clients are human; client-go programs, curl and empty agents are not", () => {
    expect(
      [
        "kubectl/v1.31.0 (darwin/arm64) kubernetes/9b8e4c2",
        "kubectl.exe/v1.29.2 (windows/amd64) kubernetes/4b8e819",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "k9s/v0.32.5 (linux/amd64) kubernetes/$Format",
        "OpenLens/6.5.2",
        "PostmanRuntime/7.42.0",
      ].map(humanClient),
    ).toEqual(["kubectl", "kubectl", "browser", "k9s", "Lens", "Postman"]);
    for (const program of [
      "kube-controller-manager/v1.31.0 (linux/amd64) kubernetes/9b8e4c2/system:serviceaccount:kube-system:replicaset-controller",
      "manager/v0.0.0 (linux/amd64) kubernetes/$Format",
      "argocd-application-controller/v0.0.0 (linux/amd64) kubernetes/$Format",
      "curl/8.5.0",
      "Go-http-client/2.0",
      "",
    ]) {
      expect({ program, client: humanClient(program) }).toEqual({ program, client: null });
    }
  });

  it("addresses outside the configured networks, IPv4 and IPv6; nothing is outside when none is configured", () => {
    expect(outsideCidrs([])).toBeNull();
    const outside = outsideCidrs(["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"]);
    expect(["10.244.1.2", "192.168.3.4", "fd00::12", "::ffff:10.1.1.1", "203.0.113.7", "2001:db8::1", "not-an-ip"].map((ip) => outside?.(ip))).toEqual([
      false,
      false,
      false,
      false,
      true,
      true,
      false,
    ]);
  });
});
