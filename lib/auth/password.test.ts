import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, verifyPassword } from "./password";

describe("password hashing (scrypt)", () => {
  it("verifies the right password and rejects a wrong one", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", hash)).toBe(false);
  });

  it("salts every hash", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    expect(a).not.toBe(b);
  });

  it("rejects malformed or tampered hashes instead of throwing", async () => {
    const hash = await hashPassword("pw");
    const parts = hash.split("$");
    parts[5] = Buffer.alloc(64, 1).toString("base64");
    expect(await verifyPassword("pw", parts.join("$"))).toBe(false);
    expect(await verifyPassword("pw", "plaintext")).toBe(false);
    expect(await verifyPassword("pw", "")).toBe(false);
  });

  it("generates distinct random passwords", () => {
    const a = generatePassword();
    expect(a).toHaveLength(20);
    expect(generatePassword()).not.toBe(a);
  });
});
