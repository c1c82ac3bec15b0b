import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadSecretKey, open, seal } from "./secret-box";

const key = randomBytes(32);

describe("secret box (AES-256-GCM)", () => {
  it("round-trips and never stores the plaintext", () => {
    const sealed = seal("s3cr3t-token", "cluster:1:sync", key);
    expect(sealed).not.toContain("s3cr3t");
    expect(open(sealed, "cluster:1:sync", key)).toBe("s3cr3t-token");
  });

  it("refuses a ciphertext moved to another cluster or purpose", () => {
    const sealed = seal("token", "cluster:1:sync", key);
    expect(() => open(sealed, "cluster:2:sync", key)).toThrow();
    expect(() => open(sealed, "cluster:1:remediation", key)).toThrow();
  });

  it("detects tampering and the wrong key", () => {
    const sealed = seal("token", "ctx", key);
    const parts = sealed.split(":");
    const body = Buffer.from(parts[3]!, "base64");
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString("base64");
    expect(() => open(parts.join(":"), "ctx", key)).toThrow();
    expect(() => open(sealed, "ctx", randomBytes(32))).toThrow();
  });

  it("accepts only 32-byte keys", () => {
    expect(loadSecretKey(randomBytes(32).toString("base64"))).toHaveLength(32);
    expect(loadSecretKey("ab".repeat(32))).toHaveLength(32);
    expect(() => loadSecretKey(randomBytes(16).toString("base64"))).toThrow(/32 bytes/);
    expect(() => loadSecretKey("")).toThrow(/not set/);
  });
});
