import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";

/** KEYWARD_SECRET_KEY: 32 random bytes, as base64 or 64 hex characters (`openssl rand -base64 32`). */
export function loadSecretKey(raw = process.env.KEYWARD_SECRET_KEY): Buffer {
  if (!raw) throw new Error("KEYWARD_SECRET_KEY is not set: it encrypts cluster credentials (openssl rand -base64 32)");
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64");
  if (key.length !== 32) throw new Error("KEYWARD_SECRET_KEY must be 32 bytes, as base64 or 64 hex characters");
  return key;
}

/**
 * AES-256-GCM. `context` is authenticated but not stored (for example "cluster:<id>:sync"), so a ciphertext
 * copied into another row or purpose fails to open.
 */
export function seal(plaintext: string, context: string, key = loadSecretKey()): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
}

export function open(sealed: string, context: string, key = loadSecretKey()): string {
  const [version, iv, tag, body] = sealed.split(":");
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error("unrecognised sealed secret format");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(Buffer.from(tag, "base64"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
}
