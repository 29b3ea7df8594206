//! The key from the configuration that seals secrets the store must read
//! back (TOTP secrets): a copy of the database alone — a backup, a dump, a
//! stolen disk image of the PostgreSQL server — does not give anyone a
//! second factor. ChaCha20-Poly1305 with a random nonce per value; the
//! account id is the associated data, so a sealed secret copied onto
//! another account does not open.

use crate::{Result, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// Sealed values start with this, so plain values from before the key
/// (kept readable, and sealed at the next start) are told apart.
const SEALED_PREFIX: &str = "sealed1:";
const KEY_BYTES: usize = 32;

pub struct SecretKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

fn bad_key(why: &str) -> StoreError {
    StoreError::BadSecretKey(why.to_string())
}

impl SecretKey {
    /// A new random key, as its text form (64 hex digits).
    pub fn generate_text() -> String {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// A key from its text form: 64 hex digits, or 32 bytes in base64
    /// (standard or URL-safe); surrounding white space is ignored.
    pub fn from_text(text: &str) -> Result<SecretKey> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_BYTES && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| bad_key("not hexadecimal"))?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
                .map_err(|_| bad_key("expected 64 hexadecimal digits or 32 bytes in base64"))?
        };
        if bytes.len() != KEY_BYTES {
            return Err(bad_key(&format!(
                "the key is {} bytes; it must be {KEY_BYTES}",
                bytes.len()
            )));
        }
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes)
            .map_err(|_| bad_key("the key was refused"))?;
        Ok(SecretKey {
            key: LessSafeKey::new(key),
        })
    }

    /// `plain` sealed for `context` (e.g. the account id).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut sealed = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| bad_key("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// The plain value of something [`seal`](Self::seal)ed for `context`.
    pub fn open(&self, stored: &str, context: &str) -> Result<String> {
        let Some(body) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_string());
        };
        let cannot = || {
            bad_key(
                "a sealed secret does not open with this key (was the key changed, or does \
                 another instance use a different MAMORI_SECRET_KEY?)",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| cannot())?;
        if bytes.len() < NONCE_LEN {
            return Err(cannot());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| cannot())?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| cannot())?;
        String::from_utf8(plain.to_vec()).map_err(|_| cannot())
    }
}

/// Whether a stored value is sealed (needs a key to be read).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_text(&SecretKey::generate_text()).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = key();
        let sealed = key.seal("JBSWY3DPEHPK3PXP", "account:7").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(key.open(&sealed, "account:7").unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(
            key.open(&sealed, "account:8").is_err(),
            "moved to another account"
        );
        assert!(
            self::key().open(&sealed, "account:7").is_err(),
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered.push('A');
        assert!(key.open(&tampered, "account:7").is_err());
        assert_ne!(
            sealed,
            key.seal("JBSWY3DPEHPK3PXP", "account:7").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn plain_values_from_before_the_key_stay_readable() {
        assert_eq!(
            key().open("JBSWY3DPEHPK3PXP", "account:7").unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
    }

    #[test]
    fn keys_are_read_in_hex_or_base64_and_wrong_lengths_are_refused() {
        let hex_text = SecretKey::generate_text();
        assert!(SecretKey::from_text(&format!(" {hex_text}\n")).is_ok());
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(SecretKey::from_text(&b64).is_ok());
        let short = SecretKey::from_text("abcd").unwrap_err().to_string();
        assert!(short.contains("3 bytes; it must be 32"), "{short}");
        assert!(SecretKey::from_text("not a key at all!").is_err());
    }
}
