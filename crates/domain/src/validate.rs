//! Checks on free text that comes from people: e-mail addresses, names,
//! passwords. Each returns the cleaned value or says which field and why.

use crate::DomainError;

/// Trims and lower-cases an e-mail address and checks its shape.
pub fn email(value: &str) -> Result<String, DomainError> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && !value.chars().any(char::is_whitespace)
        && match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(value)
    } else {
        Err(DomainError::invalid(
            "email",
            format!("`{value}` is not an e-mail address"),
        ))
    }
}

/// A name shown to people (an organisation's or a person's): 1–200 characters
/// after trimming, no control characters.
pub fn display_name(field: &'static str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > 200 {
        return Err(DomainError::invalid(field, "longer than 200 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, "contains control characters"));
    }
    Ok(value.to_string())
}

/// Multi-line free text (notes): at most `max` characters.
pub fn note(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("longer than {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(field, "contains control characters"));
    }
    Ok(value.to_string())
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 200;

/// The commonest long passwords (crates/domain/data/common-passwords.txt).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Whether a guessing attack tries this password first: on the shipped
/// list, one character repeated, or a run of consecutive characters
/// (`abcdefghij`, `9876543210`).
fn is_common(value: &str) -> bool {
    let lower = value.trim().to_lowercase();
    if COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == lower)
    {
        return true;
    }
    let chars: Vec<u32> = lower.chars().map(u32::from).collect();
    let steps: Vec<i64> = chars
        .windows(2)
        .map(|w| i64::from(w[1]) - i64::from(w[0]))
        .collect();
    steps.iter().all(|s| *s == 0) || steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1)
}

/// Length is what makes a password strong (NIST SP 800-63B); composition
/// rules are not imposed, but the passwords every guessing attack tries
/// first are refused.
pub fn new_password(value: &str) -> Result<(), DomainError> {
    let n = value.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("shorter than {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("longer than {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if is_common(value) {
        return Err(DomainError::invalid(
            "password",
            "よく使われるパスワードのため使えません / one of the commonest passwords, tried first by any attacker",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commonest_passwords_are_refused_whatever_their_case() {
        for weak in [
            "1234567890",
            "Password123",
            "qwertyuiop",
            "aaaaaaaaaaaa",
            "abcdefghijk",
            "9876543210",
        ] {
            let err = new_password(weak).unwrap_err().to_string();
            assert!(err.contains("commonest"), "{weak}: {err}");
        }
        for fine in [
            "kohan-byouin-2026-ito",
            "correct horse battery staple",
            "1234567890x",
        ] {
            assert!(new_password(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(email("  Taro@Example.JP "), Ok("taro@example.jp".into()));
        for bad in [
            "",
            "taro",
            "@example.jp",
            "taro@",
            "taro@example",
            "a b@example.jp",
            "a@@b.jp",
            "a@b.jp.",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_passwords() {
        assert!(display_name("name", "  ").is_err());
        assert_eq!(
            display_name("name", " 島根中央病院 "),
            Ok("島根中央病院".into())
        );
        assert!(display_name("name", "a\u{7}b").is_err());
        assert!(new_password("short").is_err());
        assert!(new_password("correct horse battery").is_ok());
        assert!(note("note", "line\nline", 100).is_ok());
        assert!(note("note", &"x".repeat(101), 100).is_err());
    }
}
