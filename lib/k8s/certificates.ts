import "reflect-metadata";
import { createHash } from "node:crypto";
import { X509Certificate } from "@peculiar/x509";

export interface ParsedCertificate {
  /** Subject CN: the username kube-apiserver authenticates the certificate as. */
  commonName: string;
  /** Subject O values: the groups it authenticates with. */
  organizations: string[];
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER encoding, lowercase hex (what `openssl x509 -fingerprint -sha256` prints, without colons). */
  sha256Fingerprint: string;
  serialNumber: string;
  issuer: string;
}

/** Parses the first certificate of a PEM bundle (a CSR's `status.certificate`, decoded). */
export function parseCertificatePem(pem: string): ParsedCertificate {
  const first = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0];
  if (!first) throw new Error("no PEM certificate found");
  const cert = new X509Certificate(first);
  return {
    commonName: cert.subjectName.getField("CN")[0] ?? "",
    organizations: cert.subjectName.getField("O"),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sha256Fingerprint: createHash("sha256").update(Buffer.from(cert.rawData)).digest("hex"),
    serialNumber: cert.serialNumber,
    issuer: cert.issuer,
  };
}

/** A CSR's `status.certificate` is base64 of PEM; returns undefined for a CSR with no issued certificate. */
export function parseIssuedCertificate(
  statusCertificateBase64: string | undefined,
): ParsedCertificate | undefined {
  if (!statusCertificateBase64) return undefined;
  return parseCertificatePem(Buffer.from(statusCertificateBase64, "base64").toString("utf8"));
}
