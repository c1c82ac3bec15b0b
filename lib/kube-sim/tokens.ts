import { createHash, createPrivateKey, randomBytes, randomUUID, sign, type KeyObject } from "node:crypto";
import { decodeJwt, exportPKCS8, exportSPKI, generateKeyPair, jwtVerify, type CryptoKey as JoseKey } from "jose";

export const API_AUDIENCE = "https://kubernetes.default.svc.cluster.local";
export const BOUND_TOKEN_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const LEGACY_TOKEN_ISSUER = "kubernetes/serviceaccount";

export interface BoundObject {
  kind: "Pod" | "Secret" | "Node";
  name: string;
  uid: string;
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

/** What a verified ServiceAccount JWT claims; the caller checks these objects still exist. */
export interface VerifiedServiceAccountToken {
  serviceAccount: ServiceAccountRef;
  /** Legacy tokens: the Secret that holds the token. Bound tokens: the object the token is bound to. */
  boundObject?: { kind: string; name: string; uid?: string };
  legacy: boolean;
  jti?: string;
}

/** Signs and verifies ServiceAccount tokens the way kube-apiserver and the token controller do. */
export class ServiceAccountTokens {
  private constructor(
    private readonly signingKey: KeyObject,
    private readonly publicKey: JoseKey,
    readonly publicKeyPem: string,
  ) {}

  static async create(): Promise<ServiceAccountTokens> {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    return new ServiceAccountTokens(createPrivateKey(await exportPKCS8(privateKey)), publicKey, await exportSPKI(publicKey));
  }

  /**
   * ES256 JWS signed synchronously with node:crypto: the token controller signs one per legacy Secret,
   * and a scale cluster has ten thousand of them at startup (jose's async signing is several times slower).
   */
  private signJwt(claims: Record<string, unknown>): string {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const signingInput = `${encode({ alg: "ES256", kid: this.keyId() })}.${encode(claims)}`;
    const signature = sign("sha256", Buffer.from(signingInput), { key: this.signingKey, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${signature.toString("base64url")}`;
  }

  /** A TokenRequest token (`kubectl create token`). */
  issueBound(
    sa: ServiceAccountRef,
    options: { audiences: string[]; expirationSeconds: number; boundObject?: BoundObject; now?: Date },
  ): { token: string; expiresAt: Date; jti: string } {
    const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const expiresAt = issuedAt + options.expirationSeconds;
    const jti = randomUUID();
    const kubernetesClaims: Record<string, unknown> = {
      namespace: sa.namespace,
      serviceaccount: { name: sa.name, uid: sa.uid },
    };
    if (options.boundObject) {
      kubernetesClaims[options.boundObject.kind.toLowerCase()] = { name: options.boundObject.name, uid: options.boundObject.uid };
    }
    const token = this.signJwt({
      aud: options.audiences,
      exp: expiresAt,
      iat: issuedAt,
      iss: BOUND_TOKEN_ISSUER,
      jti,
      "kubernetes.io": kubernetesClaims,
      nbf: issuedAt,
      sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
    });
    return { token, expiresAt: new Date(expiresAt * 1000), jti };
  }

  /** A legacy, non-expiring Secret token (the token controller's). */
  issueLegacy(sa: ServiceAccountRef, secretName: string): string {
    return this.signJwt({
      iss: LEGACY_TOKEN_ISSUER,
      "kubernetes.io/serviceaccount/namespace": sa.namespace,
      "kubernetes.io/serviceaccount/secret.name": secretName,
      "kubernetes.io/serviceaccount/service-account.name": sa.name,
      "kubernetes.io/serviceaccount/service-account.uid": sa.uid,
      sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
    });
  }

  /** Verifies signature, issuer, audience and expiry. Returns undefined for anything that is not ours. */
  async verify(token: string): Promise<VerifiedServiceAccountToken | undefined> {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    try {
      if (issuer === LEGACY_TOKEN_ISSUER) {
        const { payload } = await jwtVerify(token, this.publicKey, { issuer: LEGACY_TOKEN_ISSUER });
        const claim = (k: string) => String(payload[`kubernetes.io/serviceaccount/${k}`] ?? "");
        return {
          serviceAccount: { namespace: claim("namespace"), name: claim("service-account.name"), uid: claim("service-account.uid") },
          boundObject: { kind: "Secret", name: claim("secret.name") },
          legacy: true,
        };
      }
      if (issuer === BOUND_TOKEN_ISSUER) {
        const { payload } = await jwtVerify(token, this.publicKey, { issuer: BOUND_TOKEN_ISSUER, audience: API_AUDIENCE });
        const claims = payload["kubernetes.io"] as
          | { namespace?: string; serviceaccount?: { name?: string; uid?: string }; pod?: { name: string; uid: string }; secret?: { name: string; uid: string } }
          | undefined;
        if (!claims?.namespace || !claims.serviceaccount?.name) return undefined;
        const bound = claims.pod ? { kind: "Pod", ...claims.pod } : claims.secret ? { kind: "Secret", ...claims.secret } : undefined;
        return {
          serviceAccount: { namespace: claims.namespace, name: claims.serviceaccount.name, uid: claims.serviceaccount.uid ?? "" },
          boundObject: bound,
          legacy: false,
          jti: payload.jti,
        };
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  private keyId(): string {
    return createHash("sha256").update(this.publicKeyPem).digest("base64url").slice(0, 43);
  }
}

/** Opaque static bearer tokens the simulator hands out (like a static token file). */
export function newStaticToken(): string {
  return randomBytes(24).toString("base64url");
}
