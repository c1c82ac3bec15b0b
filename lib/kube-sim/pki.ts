import {
  X509Certificate as NodeX509Certificate,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  webcrypto,
  type KeyObject,
} from "node:crypto";
import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ecdsa = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface Identity {
  username: string;
  groups: string[];
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ecdsa, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

function serialNumber(): string {
  // Positive 16-byte serial: clear the top bit.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString("hex");
}

/** The simulator's certificate authority: serving certificate, client certificates, CSR signing. */
export class CertificateAuthority {
  private constructor(
    private readonly certificate: x509.X509Certificate,
    private readonly keys: CryptoKeyPair,
    readonly caPem: string,
    private readonly nodeCa: NodeX509Certificate,
    private readonly caKeyObject: KeyObject,
  ) {}

  static async create(): Promise<CertificateAuthority> {
    const keys = await newKeys();
    const now = Date.now();
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: "CN=kube-sim-ca",
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 3650 * DAY_MS),
      signingAlgorithm: ecdsa,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const caPem = certificate.toString("pem");
    const caKeyObject = createPrivateKey(await privateKeyPem(keys.privateKey));
    return new CertificateAuthority(certificate, keys, caPem, new NodeX509Certificate(caPem), caKeyObject);
  }

  async servingCertificate(): Promise<KeyPairPem> {
    const keys = await newKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: "CN=kube-apiserver",
      issuer: this.certificate.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 365 * DAY_MS),
      signingAlgorithm: ecdsa,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: "ip", value: "127.0.0.1" },
          { type: "dns", value: "localhost" },
          { type: "dns", value: "kubernetes.default.svc" },
        ]),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(this.certificate),
      ],
    });
    return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
  }

  /**
   * A client certificate (CN = user, O = groups) with a fresh P-256 key. Synchronous on purpose:
   * `kubeconfigFor()` returns a kubeconfig string directly, and WebCrypto signing is async only.
   */
  clientCertificate(identity: Identity, validForMs = 365 * DAY_MS): KeyPairPem {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const now = Date.now();
    const tbs = der.sequence(
      der.explicit(0, der.integer(Buffer.from([2]))),
      der.integer(Buffer.from(serialNumber(), "hex")),
      der.sequence(der.oid(ECDSA_WITH_SHA256)),
      Buffer.from(this.certificate.subjectName.toArrayBuffer()),
      der.sequence(der.time(new Date(now - 60_000)), der.time(new Date(now + validForMs))),
      der.name(identity),
      publicKey.export({ type: "spki", format: "der" }),
      der.explicit(
        3,
        der.sequence(
          der.extension("2.5.29.15", true, der.bitString(Buffer.from([0xa0]), 5)),
          der.extension("2.5.29.37", false, der.sequence(der.oid("1.3.6.1.5.5.7.3.2"))),
          der.extension("2.5.29.19", true, der.sequence()),
        ),
      ),
    );
    const signature = sign("sha256", tbs, this.caKeyObject);
    const certificate = der.sequence(tbs, der.sequence(der.oid(ECDSA_WITH_SHA256)), der.bitString(signature, 0));
    return {
      certPem: x509.PemConverter.encode(new Uint8Array(certificate).buffer, "CERTIFICATE"),
      keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
  }

  /** Signs a PEM CSR as the kube-apiserver-client signer: the CSR's own subject, our chosen validity. */
  async signCsr(csrPem: string, notBefore: Date, notAfter: Date): Promise<string> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error("the CSR signature is invalid");
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: csr.subjectName,
      issuer: this.certificate.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ecdsa,
      publicKey: csr.publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.certificate),
      ],
    });
    return cert.toString("pem");
  }

  /**
   * Verifies a DER client certificate presented in the TLS handshake: issued by this CA and valid now.
   * Returns the identity (CN = user, O = groups) and the SHA-256 fingerprint, or undefined.
   */
  verifyClientCertificate(der: Buffer): { identity: Identity; fingerprint: string } | undefined {
    let cert: NodeX509Certificate;
    try {
      cert = new NodeX509Certificate(der);
    } catch {
      return undefined;
    }
    if (!cert.checkIssued(this.nodeCa) || !cert.verify(this.nodeCa.publicKey)) return undefined;
    const now = Date.now();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return undefined;
    const name = new x509.X509Certificate(new Uint8Array(der).buffer).subjectName;
    const username = name.getField("CN")[0];
    if (!username) return undefined;
    return {
      identity: { username, groups: name.getField("O") },
      fingerprint: createHash("sha256").update(der).digest("hex"),
    };
  }
}

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";

/** Just enough DER to build a client certificate synchronously. */
const der = {
  tlv(tag: number, content: Buffer): Buffer {
    const length = content.length;
    let header: Buffer;
    if (length < 0x80) header = Buffer.from([tag, length]);
    else {
      const bytes: number[] = [];
      for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
      header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
    }
    return Buffer.concat([header, content]);
  },
  sequence: (...items: Buffer[]) => der.tlv(0x30, Buffer.concat(items)),
  set: (...items: Buffer[]) => der.tlv(0x31, Buffer.concat(items)),
  explicit: (n: number, content: Buffer) => der.tlv(0xa0 + n, content),
  integer(value: Buffer): Buffer {
    return der.tlv(0x02, value[0] & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
  },
  bitString: (bits: Buffer, unusedBits: number) => der.tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bits])),
  octetString: (content: Buffer) => der.tlv(0x04, content),
  utf8: (text: string) => der.tlv(0x0c, Buffer.from(text, "utf8")),
  oid(dotted: string): Buffer {
    const [first, second, ...rest] = dotted.split(".").map(Number);
    const bytes = [first * 40 + second];
    for (const n of rest) {
      const chunk = [n & 0x7f];
      for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
      bytes.push(...chunk);
    }
    return der.tlv(0x06, Buffer.from(bytes));
  },
  time(date: Date): Buffer {
    const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
    // UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
    return date.getUTCFullYear() < 2050 ? der.tlv(0x17, Buffer.from(iso.slice(2))) : der.tlv(0x18, Buffer.from(iso));
  },
  name(identity: Identity): Buffer {
    const attribute = (oid: string, value: string) => der.set(der.sequence(der.oid(oid), der.utf8(value)));
    return der.sequence(...identity.groups.map((g) => attribute("2.5.4.10", g)), attribute("2.5.4.3", identity.username));
  },
  extension(oid: string, critical: boolean, value: Buffer): Buffer {
    return der.sequence(der.oid(oid), ...(critical ? [der.tlv(0x01, Buffer.from([0xff]))] : []), der.octetString(value));
  },
};

export function base64(text: string): string {
  return Buffer.from(text).toString("base64");
}
