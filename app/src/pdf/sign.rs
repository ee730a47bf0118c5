//! PAdES signatures on annex PDFs: signing as an incremental update, and
//! checking a signed file.
//!
//! The signature is a detached CMS `SignedData` over the whole file except the
//! `/Contents` value (`ETSI.CAdES.detached`, SHA-256, ESS signing-certificate-v2
//! attribute, signing time in the signature dictionary's `/M`), i.e. a PAdES
//! baseline B-B signature. The original bytes stay untouched: the signature
//! dictionary, an invisible signature field, the page carrying it and the
//! catalogue with its `/AcroForm` are appended with a new cross-reference
//! section, so a PDF/A file stays PDF/A.

use chrono::{DateTime, Utc};
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier};
use der::asn1::{OctetString, SetOfVec};
use der::referenced::OwnedToRef;
use der::{Any, Decode, Encode};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, StringFormat, dictionary};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

/// Bytes reserved for the DER-encoded CMS structure (hex-encoded in the file).
const CONTENTS_LEN: usize = 16 * 1024;
/// Wide enough for any offset of a file under 10 GB; rewritten in place.
const BYTE_RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// A private key the annex can be signed with.
pub enum SigningKey {
    P256(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str(match self {
            SigningKey::P256(_) => "SigningKey::P256(..)",
            SigningKey::Rsa(_) => "SigningKey::Rsa(..)",
        })
    }
}

/// A key with its certificate chain, leaf first.
#[derive(Debug)]
pub struct SigningIdentity {
    pub key: SigningKey,
    pub chain: Vec<Certificate>,
}

impl SigningIdentity {
    /// The certificate that belongs to the key.
    pub fn leaf(&self) -> &Certificate {
        &self.chain[0]
    }

    /// Builds an identity from PEM texts: a private key (PKCS#8, PKCS#1 RSA or
    /// SEC1 EC) and a certificate chain, leaf first. The leaf must belong to
    /// the key.
    pub fn from_pem(key_pem: &str, chain_pem: &[u8]) -> Result<Self, SignError> {
        use p256::pkcs8::DecodePrivateKey;
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let key = if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(key_pem) {
            SigningKey::P256(k)
        } else if let Ok(k) = p256::SecretKey::from_sec1_pem(key_pem) {
            SigningKey::P256(k.into())
        } else if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(key_pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(key_pem))
        {
            SigningKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k)))
        } else {
            return Err(SignError::Key(
                "the private key is neither an RSA nor a P-256 key in PEM form".into(),
            ));
        };
        let chain = Certificate::load_pem_chain(chain_pem)
            .map_err(|e| SignError::Key(format!("the certificate chain is unreadable: {e}")))?;
        Self::new(key, chain)
    }

    /// Builds an identity from a PKCS#12 file (as `openssl pkcs12 -export`
    /// writes it: PBES2 with AES and PBKDF2). The certificate of the key comes
    /// first in the chain, whatever the order in the file.
    pub fn from_pkcs12(der_bytes: &[u8], password: &str) -> Result<Self, SignError> {
        let (key_der, mut certs) = super::pkcs12::read(der_bytes, password)?;
        let probe = SigningIdentity {
            key: key_from_pkcs8_der(&key_der)?,
            chain: Vec::new(),
        };
        let public = probe.public_key_der()?;
        let leaf = certs
            .iter()
            .position(|c| {
                c.tbs_certificate
                    .subject_public_key_info
                    .to_der()
                    .is_ok_and(|der| der == public)
            })
            .ok_or_else(|| {
                SignError::Key("PKCS#12: no certificate in the file belongs to its key".into())
            })?;
        let leaf = certs.remove(leaf);
        certs.insert(0, leaf);
        Self::new(probe.key, certs)
    }

    /// Checks that the first certificate belongs to the key.
    fn new(key: SigningKey, chain: Vec<Certificate>) -> Result<Self, SignError> {
        if chain.is_empty() {
            return Err(SignError::Key("no certificate was given".into()));
        }
        let identity = SigningIdentity { key, chain };
        if identity.public_key_der()? != identity.leaf_public_key_der()? {
            return Err(SignError::Key(
                "the first certificate does not belong to the private key".into(),
            ));
        }
        Ok(identity)
    }

    fn public_key_der(&self) -> Result<Vec<u8>, SignError> {
        use p256::pkcs8::EncodePublicKey;
        let doc = match &self.key {
            SigningKey::P256(k) => k.verifying_key().to_public_key_der(),
            SigningKey::Rsa(k) => rsa::RsaPublicKey::from(k.as_ref().as_ref()).to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| SignError::Key(e.to_string()))
    }

    fn leaf_public_key_der(&self) -> Result<Vec<u8>, SignError> {
        self.leaf()
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| SignError::Key(e.to_string()))
    }
}

/// What the signature dictionary says about the signature.
#[derive(Debug, Clone)]
pub struct SignatureDetails {
    pub signer_name: String,
    pub reason: String,
    pub location: String,
    pub time: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("signing key: {0}")]
    Key(String),
    #[error("the PDF could not be read: {0}")]
    Pdf(String),
    #[error("the signature could not be built: {0}")]
    Cms(String),
}

/// Signs `pdf` and returns the signed file (the input plus an incremental update).
pub fn sign_pdf(
    pdf: &[u8],
    identity: &SigningIdentity,
    details: &SignatureDetails,
) -> Result<Vec<u8>, SignError> {
    let prev = Document::load_mem(pdf).map_err(|e| SignError::Pdf(e.to_string()))?;
    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), prev);

    let root_id = inc
        .get_prev_documents()
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|e| SignError::Pdf(format!("no catalogue: {e}")))?;
    let page_id = *inc
        .get_prev_documents()
        .get_pages()
        .get(&1)
        .ok_or_else(|| SignError::Pdf("the document has no page".into()))?;

    let doc = &mut inc.new_document;
    let sig_id = doc.add_object(Object::Dictionary(dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => "ETSI.CAdES.detached",
        "ByteRange" => vec![0.into(), BYTE_RANGE_PLACEHOLDER.into(), BYTE_RANGE_PLACEHOLDER.into(), BYTE_RANGE_PLACEHOLDER.into()],
        "Contents" => Object::String(vec![0; CONTENTS_LEN], StringFormat::Hexadecimal),
        "M" => Object::string_literal(pdf_date(details.time)),
        "Name" => text_string(&details.signer_name),
        "Reason" => text_string(&details.reason),
        "Location" => text_string(&details.location),
    }));
    let field_id = doc.add_object(Object::Dictionary(dictionary! {
        "Type" => "Annot",
        "Subtype" => "Widget",
        "FT" => "Sig",
        "T" => Object::string_literal("Signatur"),
        "V" => sig_id,
        // Invisible, printed (PDF/A wants the print flag) and locked.
        "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
        "F" => 132,
        "P" => page_id,
    }));

    // The page lists the widget among its annotations.
    inc.opt_clone_object_to_new_document(page_id)
        .map_err(|e| SignError::Pdf(e.to_string()))?;
    let annots = inc
        .new_document
        .get_object(page_id)
        .and_then(Object::as_dict)
        .ok()
        .and_then(|page| page.get(b"Annots").ok().cloned());
    match annots {
        Some(Object::Reference(annots_id)) => {
            inc.opt_clone_object_to_new_document(annots_id)
                .map_err(|e| SignError::Pdf(e.to_string()))?;
            inc.new_document
                .get_object_mut(annots_id)
                .and_then(Object::as_array_mut)
                .map_err(|e| SignError::Pdf(e.to_string()))?
                .push(field_id.into());
        }
        other => {
            let mut list = match other {
                Some(Object::Array(list)) => list,
                _ => Vec::new(),
            };
            list.push(field_id.into());
            page_dict_mut(&mut inc.new_document, page_id)?.set("Annots", list);
        }
    }

    // The catalogue points at the form with the signature field.
    inc.opt_clone_object_to_new_document(root_id)
        .map_err(|e| SignError::Pdf(e.to_string()))?;
    let existing_form = page_dict_mut(&mut inc.new_document, root_id)?
        .get(b"AcroForm")
        .ok()
        .cloned();
    let mut form = match existing_form {
        Some(Object::Dictionary(d)) => d,
        Some(Object::Reference(id)) => inc
            .get_prev_documents()
            .get_dictionary(id)
            .cloned()
            .map_err(|e| SignError::Pdf(e.to_string()))?,
        _ => Dictionary::new(),
    };
    let mut fields = match form.get(b"Fields") {
        Ok(Object::Array(list)) => list.clone(),
        _ => Vec::new(),
    };
    fields.push(field_id.into());
    form.set("Fields", fields);
    form.set("SigFlags", 3);
    page_dict_mut(&mut inc.new_document, root_id)?.set("AcroForm", form);

    let mut out = Vec::with_capacity(pdf.len() + 2 * CONTENTS_LEN + 4096);
    inc.save_to(&mut out)
        .map_err(|e| SignError::Pdf(e.to_string()))?;

    // Fill in the byte range, then the signature over it.
    let appended = pdf.len();
    let placeholder = {
        let mut p = Vec::with_capacity(2 * CONTENTS_LEN + 2);
        p.push(b'<');
        p.resize(2 * CONTENTS_LEN + 1, b'0');
        p.push(b'>');
        p
    };
    let contents_start = appended
        + find(&out[appended..], &placeholder)
            .ok_or_else(|| SignError::Pdf("signature placeholder not written".into()))?;
    let contents_end = contents_start + placeholder.len();
    let range_at = appended
        + find(&out[appended..], b"/ByteRange")
            .ok_or_else(|| SignError::Pdf("byte range not written".into()))?;
    let open = range_at
        + find(&out[range_at..], b"[").ok_or_else(|| SignError::Pdf("byte range".into()))?;
    let close =
        open + find(&out[open..], b"]").ok_or_else(|| SignError::Pdf("byte range".into()))?;
    let range = format!(
        "0 {} {} {}",
        contents_start,
        contents_end,
        out.len() - contents_end
    );
    let width = close - open - 1;
    if range.len() > width {
        return Err(SignError::Pdf("byte range does not fit".into()));
    }
    out[open + 1..close].copy_from_slice(format!("{range:<width$}").as_bytes());

    let mut hasher = Sha256::new();
    hasher.update(&out[..contents_start]);
    hasher.update(&out[contents_end..]);
    let digest = hasher.finalize();

    let cms = build_cms(identity, &digest)?;
    if cms.len() > CONTENTS_LEN {
        return Err(SignError::Cms(format!(
            "the signature ({} bytes) exceeds the reserved {CONTENTS_LEN} bytes",
            cms.len()
        )));
    }
    let hex = hex::encode_upper(&cms);
    out[contents_start + 1..contents_start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}

fn page_dict_mut(doc: &mut Document, id: lopdf::ObjectId) -> Result<&mut Dictionary, SignError> {
    doc.get_object_mut(id)
        .and_then(Object::as_dict_mut)
        .map_err(|e| SignError::Pdf(e.to_string()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A PDF date string, e.g. `D:20261123101500+00'00'`.
fn pdf_date(time: DateTime<Utc>) -> String {
    time.format("D:%Y%m%d%H%M%S+00'00'").to_string()
}

/// A PDF text string: ASCII as a literal, anything else as UTF-16BE with BOM.
fn text_string(s: &str) -> Object {
    if s.is_ascii() {
        Object::string_literal(s)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// ESSCertIDv2 with the default hash algorithm (SHA-256), RFC 5035.
#[derive(der::Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
}

/// SigningCertificateV2 without policies, RFC 5035.
#[derive(der::Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ID_SHA_256,
        parameters: None,
    }
}

fn build_cms(identity: &SigningIdentity, digest: &[u8]) -> Result<Vec<u8>, SignError> {
    let cms_err = |e: &dyn std::fmt::Display| SignError::Cms(e.to_string());
    let leaf = identity.leaf();
    let leaf_der = leaf.to_der().map_err(|e| cms_err(&e))?;
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(&leaf_der).to_vec())
                .map_err(|e| cms_err(&e))?,
        }],
    };
    let signing_cert_attr = Attribute {
        oid: const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
        values: SetOfVec::try_from(vec![
            Any::encode_from(&signing_cert).map_err(|e| cms_err(&e))?,
        ])
        .map_err(|e| cms_err(&e))?,
    };
    let content = EncapsulatedContentInfo {
        econtent_type: const_oid::db::rfc5911::ID_DATA,
        econtent: None,
    };
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: leaf.tbs_certificate.issuer.clone(),
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    });
    let mut builder = SignedDataBuilder::new(&content);
    builder
        .add_digest_algorithm(sha256_alg())
        .map_err(|e| cms_err(&e))?;
    for cert in &identity.chain {
        builder
            .add_certificate(CertificateChoices::Certificate(cert.clone()))
            .map_err(|e| cms_err(&e))?;
    }
    let signed_attrs = vec![signing_cert_attr];
    match &identity.key {
        SigningKey::P256(key) => add_signer::<_, p256::ecdsa::DerSignature>(
            &mut builder,
            key,
            sid,
            &content,
            digest,
            signed_attrs,
        )?,
        SigningKey::Rsa(key) => add_signer::<_, rsa::pkcs1v15::Signature>(
            &mut builder,
            key.as_ref(),
            sid,
            &content,
            digest,
            signed_attrs,
        )?,
    }
    builder
        .build()
        .map_err(|e| cms_err(&e))?
        .to_der()
        .map_err(|e| cms_err(&e))
}

/// Adds one signer over an external digest, whatever the key type.
fn add_signer<S, Sig>(
    builder: &mut SignedDataBuilder<'_>,
    key: &S,
    sid: SignerIdentifier,
    content: &EncapsulatedContentInfo,
    digest: &[u8],
    signed_attrs: Vec<Attribute>,
) -> Result<(), SignError>
where
    S: p256::ecdsa::signature::Keypair
        + spki::DynSignatureAlgorithmIdentifier
        + p256::ecdsa::signature::Signer<Sig>,
    Sig: spki::SignatureBitStringEncoding,
{
    let cms_err = |e: &dyn std::fmt::Display| SignError::Cms(e.to_string());
    let mut signer = SignerInfoBuilder::new(key, sid, sha256_alg(), content, Some(digest))
        .map_err(|e| cms_err(&e))?;
    for attr in signed_attrs {
        signer.add_signed_attribute(attr).map_err(|e| cms_err(&e))?;
    }
    builder
        .add_signer_info::<S, Sig>(signer)
        .map_err(|e| cms_err(&e))?;
    Ok(())
}

/// What a signature check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// SHA-256 of the whole file, hex.
    pub file_sha256: String,
    /// Subject of the signing certificate (RFC 4514 form).
    pub signer_subject: String,
    /// Whether the signed byte range covers the whole file but the signature value.
    pub covers_whole_file: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the file is not a readable PDF: {0}")]
    NotPdf(String),
    #[error("the file carries no signature")]
    Unsigned,
    #[error("the signature is malformed: {0}")]
    Malformed(String),
    #[error("the document was changed after signing (digest mismatch)")]
    DigestMismatch,
    #[error("the signature value does not match the signer's key")]
    BadSignature,
}

/// Checks the last signature of a PDF: byte range, digest and signature value.
pub fn verify_pdf(pdf: &[u8]) -> Result<SignatureCheck, VerifyError> {
    let malformed = |m: &str| VerifyError::Malformed(m.to_owned());
    let doc = Document::load_mem(pdf).map_err(|e| VerifyError::NotPdf(e.to_string()))?;
    let sig = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"ByteRange").is_ok() && d.get(b"Contents").is_ok())
        .max_by_key(|d| {
            d.get(b"ByteRange")
                .and_then(Object::as_array)
                .ok()
                .and_then(|a| a.get(2).and_then(|o| o.as_i64().ok()))
                .unwrap_or(0)
        })
        .ok_or(VerifyError::Unsigned)?;
    let range: Vec<usize> = sig
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map_err(|_| malformed("byte range"))?
        .iter()
        .map(|o| o.as_i64().ok().and_then(|v| usize::try_from(v).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| malformed("byte range"))?;
    let [a, b, c, d] = range[..] else {
        return Err(malformed("byte range must have four numbers"));
    };
    if a != 0 || b > c || c.checked_add(d).is_none_or(|end| end > pdf.len()) {
        return Err(malformed("byte range outside the file"));
    }
    let contents = sig
        .get(b"Contents")
        .and_then(Object::as_str)
        .map_err(|_| malformed("contents"))?;
    let mut reader = der::SliceReader::new(contents).map_err(|_| malformed("contents"))?;
    let info = ContentInfo::decode(&mut reader).map_err(|e| malformed(&e.to_string()))?;
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let signer = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| malformed("no signer"))?;
    let cert = signed
        .certificates
        .as_ref()
        .and_then(|set| {
            set.0.iter().find_map(|choice| match choice {
                CertificateChoices::Certificate(cert) => match &signer.sid {
                    SignerIdentifier::IssuerAndSerialNumber(isn)
                        if cert.tbs_certificate.issuer == isn.issuer
                            && cert.tbs_certificate.serial_number == isn.serial_number =>
                    {
                        Some(cert)
                    }
                    _ => None,
                },
                _ => None,
            })
        })
        .ok_or_else(|| malformed("the signer's certificate is missing"))?;

    let mut hasher = Sha256::new();
    hasher.update(&pdf[a..b]);
    hasher.update(&pdf[c..c + d]);
    let digest = hasher.finalize();
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| malformed("no signed attributes"))?;
    let stated = attrs
        .iter()
        .find(|attr| attr.oid == const_oid::db::rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|attr| attr.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| malformed("no message digest"))?;
    if stated.as_bytes() != digest.as_slice() {
        return Err(VerifyError::DigestMismatch);
    }

    let message = attrs.to_der().map_err(|e| malformed(&e.to_string()))?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let signature = signer.signature.as_bytes();
    let ok = if spki.algorithm.oid == const_oid::db::rfc5912::ID_EC_PUBLIC_KEY {
        use p256::ecdsa::signature::Verifier;
        let key = p256::ecdsa::VerifyingKey::try_from(spki.owned_to_ref())
            .map_err(|e| malformed(&e.to_string()))?;
        let sig = p256::ecdsa::DerSignature::try_from(signature)
            .map_err(|e| malformed(&e.to_string()))?;
        key.verify(&message, &sig).is_ok()
    } else if spki.algorithm.oid == const_oid::db::rfc5912::RSA_ENCRYPTION {
        use rsa::signature::Verifier;
        let key = rsa::RsaPublicKey::try_from(spki.owned_to_ref())
            .map_err(|e| malformed(&e.to_string()))?;
        let sig =
            rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| malformed(&e.to_string()))?;
        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
            .verify(&message, &sig)
            .is_ok()
    } else {
        return Err(malformed("unsupported key algorithm"));
    };
    if !ok {
        return Err(VerifyError::BadSignature);
    }
    Ok(SignatureCheck {
        file_sha256: hex::encode(Sha256::digest(pdf)),
        signer_subject: cert.tbs_certificate.subject.to_string(),
        covers_whole_file: c + d == pdf.len() && b < c,
    })
}

/// Creates a P-256 key and a self-signed certificate for `org_name`, valid for
/// ten years from `now`. Returns the identity and the key as PKCS#8 DER.
pub fn generate_self_signed(
    org_name: &str,
    now: DateTime<Utc>,
) -> Result<(SigningIdentity, Vec<u8>), SignError> {
    use p256::pkcs8::EncodePrivateKey;
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    use x509_cert::time::{Time, Validity};

    let err = |e: &dyn std::fmt::Display| SignError::Key(e.to_string());
    let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let pkcs8 = key.to_pkcs8_der().map_err(|e| err(&e))?.as_bytes().to_vec();

    // Built attribute by attribute: no string escaping to get wrong.
    let attribute = |oid, value: &str| -> Result<RelativeDistinguishedName, SignError> {
        let value = Any::new(der::Tag::Utf8String, value.as_bytes()).map_err(|e| err(&e))?;
        SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
            .map(RelativeDistinguishedName)
            .map_err(|e| err(&e))
    };
    let subject = RdnSequence(vec![
        attribute(const_oid::db::rfc4519::O, org_name)?,
        attribute(const_oid::db::rfc4519::CN, org_name)?,
    ]);
    let mut serial = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let at = |t: DateTime<Utc>| -> Result<Time, SignError> {
        let secs = u64::try_from(t.timestamp()).map_err(|e| err(&e))?;
        der::asn1::UtcTime::from_unix_duration(std::time::Duration::from_secs(secs))
            .map(Time::UtcTime)
            .map_err(|e| err(&e))
    };
    let validity = Validity {
        not_before: at(now)?,
        not_after: at(now + chrono::Duration::days(3650))?,
    };
    let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(|e| err(&e))?;
    let builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        SerialNumber::new(&serial).map_err(|e| err(&e))?,
        validity,
        subject,
        spki,
        &key,
    )
    .map_err(|e| err(&e))?;
    let cert = builder
        .build::<p256::ecdsa::DerSignature>()
        .map_err(|e| err(&e))?;
    Ok((
        SigningIdentity {
            key: SigningKey::P256(key),
            chain: vec![cert],
        },
        pkcs8,
    ))
}

/// A P-256 or RSA key from PKCS#8 DER.
fn key_from_pkcs8_der(der_bytes: &[u8]) -> Result<SigningKey, SignError> {
    use p256::pkcs8::DecodePrivateKey;
    if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der_bytes) {
        Ok(SigningKey::P256(k))
    } else if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der_bytes) {
        Ok(SigningKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k))))
    } else {
        Err(SignError::Key(
            "the private key is neither an RSA nor a P-256 key".into(),
        ))
    }
}

/// Rebuilds an identity from a stored PKCS#8 key and DER certificate.
pub fn identity_from_der(pkcs8: &[u8], cert_der: &[u8]) -> Result<SigningIdentity, SignError> {
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8)
        .map_err(|e| SignError::Key(e.to_string()))?;
    let cert = Certificate::from_der(cert_der).map_err(|e| SignError::Key(e.to_string()))?;
    Ok(SigningIdentity {
        key: SigningKey::P256(key),
        chain: vec![cert],
    })
}

/// Where the signature says it was made: the organisation's address on one line.
pub fn location(org: &crate::entities::organisations::Model) -> String {
    let line = org
        .address
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    if line.is_empty() {
        org.legal_name.clone()
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::typeset::{Template, typeset};

    fn pdf() -> Vec<u8> {
        static T: std::sync::OnceLock<Template> = std::sync::OnceLock::new();
        let template = T.get_or_init(|| {
            Template::new(
                "/sign-test.typ",
                "#let d = json(\"/data.json\")\n= Verschlüsselung\n#d.text",
            )
        });
        typeset(
            template,
            r#"{"text": "TLS überall."}"#.as_bytes().to_vec(),
            Some((2026, 11, 23)),
            "nachweis-sign-test".to_owned(),
        )
        .expect("render")
        .pdf
    }

    fn details() -> SignatureDetails {
        SignatureDetails {
            signer_name: "Muster GmbH".into(),
            reason: "Anlage TOM zum AVV".into(),
            location: "Würzburg".into(),
            time: DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn signed_pdf_verifies_and_any_change_is_caught() {
        let original = pdf();
        assert_eq!(verify_pdf(&original), Err(VerifyError::Unsigned));
        let (identity, pkcs8) = generate_self_signed(
            "Muster GmbH, \"Test\"",
            DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        )
        .unwrap();
        let signed = sign_pdf(&original, &identity, &details()).unwrap();
        // An incremental update: the original bytes are untouched.
        assert!(signed.starts_with(&original));
        let check = verify_pdf(&signed).unwrap();
        assert!(check.covers_whole_file);
        assert!(check.signer_subject.contains("Muster GmbH"));

        // The stored form of the key signs the same way.
        let again = identity_from_der(&pkcs8, &identity.leaf().to_der().unwrap()).unwrap();
        assert!(verify_pdf(&sign_pdf(&original, &again, &details()).unwrap()).is_ok());

        let mut flipped = signed.clone();
        flipped[original.len() / 2] ^= 0x20;
        assert_eq!(verify_pdf(&flipped), Err(VerifyError::DigestMismatch));

        let mut extended = signed.clone();
        extended.extend_from_slice(b"\n% appended after signing\n");
        assert!(!verify_pdf(&extended).unwrap().covers_whole_file);
    }

    #[test]
    fn a_key_must_match_its_certificate() {
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let (a, _) = generate_self_signed("A", now).unwrap();
        let (_, key_b) = generate_self_signed("B", now).unwrap();
        let cert_a = a.leaf().to_der().unwrap();
        let mismatched = SigningIdentity::new(
            key_from_pkcs8_der(&key_b).unwrap(),
            vec![Certificate::from_der(&cert_a).unwrap()],
        );
        assert!(mismatched.is_err());
        assert!(SigningIdentity::from_pem("no key", b"no cert").is_err());
    }
}
