//! Reading a key and its certificates out of a PKCS#12 (`.p12`/`.pfx`) file.
//!
//! Supported is what current tools write: key and certificate bags, plain or
//! encrypted with PBES2 (PBKDF2 + AES-CBC), e.g. `openssl pkcs12 -export`
//! since OpenSSL 3. Legacy RC2/3DES files (`-legacy`) get a clear error.
//! The password is checked against the file's MAC (HMAC with SHA-256, -384
//! or -512, as OpenSSL 3 writes it) before anything is decrypted: a wrong
//! password is named as such every time. Decrypting with a wrong password
//! alone passes the padding check now and then (about one time in 256) and
//! then fails later with a parse error that names no password.

use cms::content_info::ContentInfo;
use cms::encrypted_data::EncryptedData;
use der::asn1::OctetString;
use der::{Any, Decode, Encode};
use x509_cert::Certificate;

use super::sign::SignError;

fn err(what: &str) -> impl Fn(der::Error) -> SignError + '_ {
    move |e| SignError::Key(format!("PKCS#12: {what}: {e}"))
}

const WRONG_PASSWORD: &str = "PKCS#12: wrong password or damaged file";

/// Checks the file's MAC over the authenticated safe with the key the
/// password gives (RFC 7292, appendix B). A MAC with another digest (SHA-1
/// of older tools) is left to the decryption, which fails on most wrong
/// passwords too.
fn check_mac(
    mac: &pkcs12::mac_data::MacData,
    content: &[u8],
    password: &str,
) -> Result<(), SignError> {
    use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
    use hmac::{Mac, SimpleHmac};
    use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
    fn verify<D>(
        mac: &pkcs12::mac_data::MacData,
        content: &[u8],
        password: &str,
    ) -> Result<(), SignError>
    where
        D: sha2::Digest + sha2::digest::FixedOutputReset + sha2::digest::core_api::BlockSizeUser,
    {
        let key = derive_key_utf8::<D>(
            password,
            mac.mac_salt.as_bytes(),
            Pkcs12KeyType::Mac,
            mac.iterations,
            <D as sha2::Digest>::output_size(),
        )
        .map_err(err("password"))?;
        let mut hmac = <SimpleHmac<D> as Mac>::new_from_slice(&key)
            .map_err(|_| SignError::Key(WRONG_PASSWORD.into()))?;
        hmac.update(content);
        hmac.verify_slice(mac.mac.digest.as_bytes())
            .map_err(|_| SignError::Key(WRONG_PASSWORD.into()))
    }
    match mac.mac.algorithm.oid {
        oid if oid == ID_SHA_256 => verify::<sha2::Sha256>(mac, content, password),
        oid if oid == ID_SHA_384 => verify::<sha2::Sha384>(mac, content, password),
        oid if oid == ID_SHA_512 => verify::<sha2::Sha512>(mac, content, password),
        _ => Ok(()),
    }
}

/// Returns the private key (PKCS#8 DER) and all certificates of the file.
pub fn read(bytes: &[u8], password: &str) -> Result<(Vec<u8>, Vec<Certificate>), SignError> {
    let pfx = pkcs12::pfx::Pfx::from_der(bytes).map_err(err("not a PKCS#12 file"))?;
    if pfx.auth_safe.content_type != const_oid::db::rfc5911::ID_DATA {
        return Err(SignError::Key(
            "PKCS#12: public-key protected files are not supported".into(),
        ));
    }
    let safe: OctetString = pfx
        .auth_safe
        .content
        .decode_as()
        .map_err(err("authenticated safe"))?;
    if let Some(mac) = &pfx.mac_data {
        check_mac(mac, safe.as_bytes(), password)?;
    }
    let parts: Vec<ContentInfo> =
        Vec::from_der(safe.as_bytes()).map_err(err("authenticated safe"))?;
    let mut keys = Vec::new();
    let mut certs = Vec::new();
    for part in parts {
        let bags_der = if part.content_type == const_oid::db::rfc5911::ID_DATA {
            part.content
                .decode_as::<OctetString>()
                .map_err(err("safe contents"))?
                .into_bytes()
        } else if part.content_type == const_oid::db::rfc5911::ID_ENCRYPTED_DATA {
            let data: EncryptedData = part.content.decode_as().map_err(err("encrypted data"))?;
            let info = data.enc_content_info;
            let alg = info.content_enc_alg.to_der().map_err(err("algorithm"))?;
            let scheme = pkcs5::EncryptionScheme::from_der(&alg).map_err(|_| {
                SignError::Key(
                    "PKCS#12: the file uses legacy encryption (RC2/3DES); export it again with AES (OpenSSL 3 default, without -legacy)".into(),
                )
            })?;
            let ciphertext = info
                .encrypted_content
                .ok_or_else(|| SignError::Key("PKCS#12: empty encrypted data".into()))?;
            scheme
                .decrypt(password, ciphertext.as_bytes())
                .map_err(|_| SignError::Key(WRONG_PASSWORD.into()))?
        } else {
            continue;
        };
        let bags: Vec<pkcs12::safe_bag::SafeBag> =
            Vec::from_der(&bags_der).map_err(err("safe bags"))?;
        for bag in bags {
            // The bag value is wrapped in an explicit [0] tag.
            let wrapped = Any::from_der(&bag.bag_value).map_err(err("bag"))?;
            let value = wrapped.value();
            if bag.bag_id == pkcs12::PKCS_12_PKCS8_KEY_BAG_OID {
                let info = pkcs8::EncryptedPrivateKeyInfo::from_der(value)
                    .map_err(|e| SignError::Key(format!("PKCS#12: key bag: {e}")))?;
                let key = info
                    .decrypt(password)
                    .map_err(|_| SignError::Key(WRONG_PASSWORD.into()))?;
                keys.push(key.as_bytes().to_vec());
            } else if bag.bag_id == pkcs12::PKCS_12_KEY_BAG_OID {
                keys.push(value.to_vec());
            } else if bag.bag_id == pkcs12::PKCS_12_CERT_BAG_OID {
                let cert_bag =
                    pkcs12::cert_type::CertBag::from_der(value).map_err(err("certificate bag"))?;
                if cert_bag.cert_id == pkcs12::PKCS_12_X509_CERT_OID {
                    certs.push(
                        Certificate::from_der(cert_bag.cert_value.as_bytes())
                            .map_err(err("certificate"))?,
                    );
                }
            }
        }
    }
    match keys.len() {
        1 => Ok((keys.remove(0), certs)),
        0 => Err(SignError::Key(
            "PKCS#12: the file holds no private key".into(),
        )),
        _ => Err(SignError::Key(
            "PKCS#12: the file holds more than one private key".into(),
        )),
    }
}
