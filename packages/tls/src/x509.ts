// RFC 5280 X.509 certificates: parsing what path validation and TLS need. Unknown critical extensions are
// recorded so validation can refuse them (§4.2).

import { DerError, der, parseSpki, x509SignatureAlgorithm, type PublicKey, type SignatureAlgorithm, type SignatureHash } from '@gquic/crypto';

const { Tag, children, content, encoding, expect: expectTag, oid, readDer } = der;

export const X509_OID = {
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/** keyUsage bits (RFC 5280 §4.2.1.3), bit 0 = digitalSignature. */
export const KeyUsage = { digitalSignature: 0, keyCertSign: 5 } as const;

export interface Certificate {
  /** The whole DER encoding. */
  der: Uint8Array;
  tbs: Uint8Array;
  serial: Uint8Array;
  /** DER of the issuer and subject Names, compared byte for byte when building chains. */
  issuer: Uint8Array;
  subject: Uint8Array;
  subjectCommonName: string | undefined;
  notBefore: number;
  notAfter: number;
  publicKey: PublicKey;
  /** undefined when the signature algorithm is not one we implement (validation fails on it). */
  signatureAlgorithm: SignatureAlgorithm | undefined;
  signatureAlgorithmOid: string;
  signature: Uint8Array;
  isCa: boolean;
  pathLenConstraint: number | undefined;
  /** undefined when the extension is absent (all uses allowed). */
  keyUsage: Set<number> | undefined;
  extKeyUsage: Set<string> | undefined;
  dnsNames: string[];
  ipAddresses: Uint8Array[];
  unknownCriticalExtensions: string[];
}

export class CertificateParseError extends DerError {}

export function parseCertificate(bytes: Uint8Array): Certificate {
  const root = readDer(bytes);
  if (root.end !== bytes.length) throw new CertificateParseError('trailing bytes after certificate');
  const [tbsNode, sigAlgNode, sigNode] = children(expectTag(root, Tag.SEQUENCE, 'Certificate'));
  const tbsFields = children(expectTag(tbsNode, Tag.SEQUENCE, 'TBSCertificate'));
  let i = 0;
  if (tbsFields[0]?.tag === 0xa0) i++; // [0] version
  const serial = content(expectTag(tbsFields[i++], Tag.INTEGER, 'serialNumber')).slice();
  const innerSignature = expectTag(tbsFields[i++], Tag.SEQUENCE, 'signature');
  const issuer = encoding(expectTag(tbsFields[i++], Tag.SEQUENCE, 'issuer')).slice();
  const validity = children(expectTag(tbsFields[i++], Tag.SEQUENCE, 'validity'));
  const subjectNode = expectTag(tbsFields[i++], Tag.SEQUENCE, 'subject');
  const publicKey = parseSpki(encoding(expectTag(tbsFields[i++], Tag.SEQUENCE, 'subjectPublicKeyInfo')));
  const cert: Certificate = {
    der: bytes,
    tbs: encoding(tbsNode!),
    serial,
    issuer,
    subject: encoding(subjectNode).slice(),
    subjectCommonName: commonName(subjectNode),
    notBefore: der.time(validity[0]!),
    notAfter: der.time(validity[1]!),
    publicKey,
    ...signatureOf(sigAlgNode!),
    signature: der.bitString(sigNode!).slice(),
    isCa: false,
    pathLenConstraint: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    dnsNames: [],
    ipAddresses: [],
    unknownCriticalExtensions: [],
  };
  // RFC 5280 §4.1.1.2: the signature field inside TBSCertificate must match signatureAlgorithm.
  if (!equal(encoding(innerSignature), encoding(sigAlgNode!))) throw new CertificateParseError('inner and outer signature algorithms differ');
  for (; i < tbsFields.length; i++) {
    const f = tbsFields[i]!;
    if (f.tag === 0xa3) parseExtensions(cert, readDer(f.buf, f.contentStart, f.end));
  }
  return cert;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, j) => x === b[j]);
}

function signatureOf(node: der.DerNode): { signatureAlgorithm: SignatureAlgorithm | undefined; signatureAlgorithmOid: string } {
  const [algOid, params] = children(expectTag(node, Tag.SEQUENCE, 'signatureAlgorithm'));
  const o = oid(algOid!);
  let pssHash: SignatureHash | undefined;
  if (o === '1.2.840.113549.1.1.10' && params !== undefined) pssHash = pssParamsHash(params);
  return { signatureAlgorithm: x509SignatureAlgorithm(o, pssHash), signatureAlgorithmOid: o };
}

/** RFC 4055 RSASSA-PSS-params: accept only hash == MGF1 hash and salt length == hash length. */
function pssParamsHash(params: der.DerNode): SignatureHash | undefined {
  let hash: SignatureHash | undefined;
  let salt = 20;
  for (const f of children(params)) {
    const inner = readDer(f.buf, f.contentStart, f.end);
    if (f.tag === 0xa0) hash = hashOf(oid(children(inner)[0]!));
    if (f.tag === 0xa2) salt = der.smallInt(inner);
  }
  const len = hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : hash === 'sha512' ? 64 : -1;
  return len === salt ? hash : undefined;
}

function hashOf(o: string): SignatureHash | undefined {
  return o === X509_OID.sha256 ? 'sha256' : o === X509_OID.sha384 ? 'sha384' : o === X509_OID.sha512 ? 'sha512' : undefined;
}

function commonName(name: der.DerNode): string | undefined {
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (type !== undefined && value !== undefined && oid(type) === X509_OID.commonName) return new TextDecoder().decode(content(value));
    }
  }
  return undefined;
}

function parseExtensions(cert: Certificate, exts: der.DerNode): void {
  const seen = new Set<string>();
  for (const e of children(expectTag(exts, Tag.SEQUENCE, 'extensions'))) {
    const f = children(e);
    const id = oid(f[0]!);
    if (seen.has(id)) throw new CertificateParseError(`duplicate extension ${id}`);
    seen.add(id);
    const critical = f.length === 3 && f[1]!.tag === Tag.BOOLEAN && content(f[1]!)[0] !== 0;
    const value = content(expectTag(f[f.length - 1], Tag.OCTET_STRING, 'extnValue'));
    const v = readDer(value);
    switch (id) {
      case X509_OID.basicConstraints: {
        const bc = children(expectTag(v, Tag.SEQUENCE, 'basicConstraints'));
        for (const x of bc) {
          if (x.tag === Tag.BOOLEAN) cert.isCa = content(x)[0] !== 0;
          if (x.tag === Tag.INTEGER) cert.pathLenConstraint = der.smallInt(x);
        }
        break;
      }
      case X509_OID.keyUsage: {
        const b = content(expectTag(v, Tag.BIT_STRING, 'keyUsage'));
        const set = new Set<number>();
        for (let bit = 0; bit < (b.length - 1) * 8; bit++) if ((b[1 + (bit >> 3)]! >> (7 - (bit & 7))) & 1) set.add(bit);
        cert.keyUsage = set;
        break;
      }
      case X509_OID.extKeyUsage:
        cert.extKeyUsage = new Set(children(expectTag(v, Tag.SEQUENCE, 'extKeyUsage')).map(oid));
        break;
      case X509_OID.subjectAltName:
        for (const gn of children(expectTag(v, Tag.SEQUENCE, 'subjectAltName'))) {
          if (gn.tag === 0x82) cert.dnsNames.push(new TextDecoder().decode(content(gn)));
          if (gn.tag === 0x87) cert.ipAddresses.push(content(gn).slice());
        }
        break;
      default:
        if (critical) cert.unknownCriticalExtensions.push(id);
    }
  }
}
