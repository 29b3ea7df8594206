//! Secrets: Argon2id password hashes, random tokens, TOTP codes and
//! recovery codes. Only hashes are stored; the plain values are shown once.

use crate::{Result, StoreError};
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use totp_rs::{Secret, Totp};

/// Argon2id takes 19 MiB and a core for each hash: at most one hash per
/// core runs at a time, so a burst of logins queues instead of taking
/// memory without bound (and the memory the allocator keeps stays small).
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Runs an Argon2 computation on the blocking pool, one per core at most.
async fn with_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let _slot = HASHING
        .acquire()
        .await
        .map_err(|e| StoreError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Hashing(e.to_string()))
}

/// Hashes a password with Argon2id (OWASP parameters: 19 MiB, 2 passes).
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    with_hashing_slot(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h: PasswordHash| h.to_string())
            .map_err(|e| StoreError::Hashing(e.to_string()))
    })
    .await?
}

/// A hash no password matches, verified against for unknown e-mails so that
/// their answer takes as long as a wrong password's.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(random_token(24).as_bytes())
        .map(|h: PasswordHash| h.to_string())
        .unwrap_or_default()
});

/// Checks a password against a stored hash; `None` checks against a dummy.
pub async fn verify_password(stored: Option<String>, password: &str) -> bool {
    let password = password.to_owned();
    with_hashing_slot(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        match PasswordHash::new(&stored) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

/// `bytes` random bytes from the OS generator, URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// How tokens and session ids are stored: SHA-256, hex. They are long and
/// random, so a fast hash is enough.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The prefix every API token starts with, so that leaked tokens are easy to
/// recognise in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "mamori_";

pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_token(32))
}

/// A new 160-bit TOTP secret, base32 as authenticator apps expect.
pub fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new_stack(bytes).to_base32()
}

fn totp(secret_base32: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret_base32).map_err(|e| StoreError::Corrupt {
        column: "totp_secret",
        value: e.to_string(),
    })?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_issuer(Some("Mamori"))
        .with_account_name(account)
        .build()
        .map_err(|e| StoreError::Corrupt {
            column: "totp_secret",
            value: e.to_string(),
        })
}

/// The `otpauth://` URL an authenticator app scans.
pub fn totp_url(secret_base32: &str, account: &str) -> Result<String> {
    totp(secret_base32, account)?
        .to_url()
        .map_err(|e| StoreError::Corrupt {
            column: "totp_secret",
            value: e.to_string(),
        })
}

/// The code for `unix_seconds`; used by tests and the benchmark.
pub fn totp_code(secret_base32: &str, unix_seconds: u64) -> Result<String> {
    Ok(totp(secret_base32, "")?.generate(unix_seconds).to_string())
}

/// Checks a code within one step either side; returns the step it matched.
/// A step at or before `last_step` is refused, so a code is good only once.
pub fn check_totp(
    secret_base32: &str,
    code: &str,
    unix_seconds: u64,
    last_step: Option<i64>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let step = totp(secret_base32, "").ok()?.check(&code, unix_seconds)? as i64;
    match last_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

/// Ten recovery codes like `k7q2-m9xd-4wpa`; letters that look alike are left out.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| {
            let chars: Vec<char> = (0..12)
                .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
                .collect();
            format!(
                "{}-{}-{}",
                chars[0..4].iter().collect::<String>(),
                chars[4..8].iter().collect::<String>(),
                chars[8..12].iter().collect::<String>()
            )
        })
        .collect()
}

/// Recovery codes are compared without case, spaces or dashes.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(hash.clone()), "correct horse battery").await);
        assert!(!verify_password(Some(hash), "correct horse batterY").await);
        assert!(!verify_password(None, "anything").await);
        assert!(!verify_password(Some("garbage".into()), "anything").await);
    }

    #[test]
    fn totp_codes_are_accepted_once() {
        let secret = new_totp_secret();
        let now = 1_800_000_000;
        let code = totp_code(&secret, now).unwrap();
        let step = check_totp(&secret, &code, now, None).expect("current code");
        assert_eq!(check_totp(&secret, &code, now, Some(step)), None);
        assert_eq!(check_totp(&secret, "000000x", now, None), None);
        // One step of clock drift either way is tolerated, two are not.
        assert!(check_totp(&secret, &code, now + 30, None).is_some());
        assert!(check_totp(&secret, &code, now + 90, None).is_none());
        assert!(
            totp_url(&secret, "a@example.jp")
                .unwrap()
                .starts_with("otpauth://totp/")
        );
    }

    #[test]
    fn recovery_codes_look_right() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 14));
        assert_eq!(normalise_recovery_code(" K7Q2-m9xd 4wpa"), "k7q2m9xd4wpa");
    }
}
