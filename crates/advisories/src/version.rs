//! Comparing versions that are not semver: FortiOS `7.0.12`, PAN-OS
//! `11.1.2-h3` (a hotfix sorts after its release), Citrix `13.1-49.15`,
//! SonicOS `6.5.4.15.116n`, Windows builds `10.0.19044.2846`, vendor
//! firmware `V2.1a`, Cisco IOS trains `15.2(4)M` (not linearly ordered:
//! only equality is known). The scheme is chosen per vendor and product.

use crate::{Bound, VersionRange};
use std::cmp::Ordering;

/// How a vendor's versions compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Numbers and letters in order; `rc`/`beta`/… before the release, any
    /// other suffix after it (`2.1a` > `2.1`, `11.1.2-h3` > `11.1.2`).
    Generic,
    /// Fortinet: `v7.0.12,build0523` is `7.0.12`.
    Fortinet,
    /// Ivanti / Pulse Secure: `22.4R2.1` is version `22.4`, update `r2.1`.
    Ivanti,
    /// Palo Alto Networks PAN-OS: `10.2.9-h1` is version `10.2.9`, update `h1`.
    PanOs,
    /// Cisco IOS (classic) trains: only equality of the normalised text.
    CiscoIosTrain,
}

fn fold(text: &str) -> String {
    text.trim().to_lowercase().replace(['_'], "-")
}

/// The scheme for a vendor and product, as CPE or free-text names.
pub fn scheme_for(vendor: &str, product: &str) -> Scheme {
    let (vendor, product) = (fold(vendor), fold(product));
    match vendor.as_str() {
        "fortinet" | "フォーティネット" => Scheme::Fortinet,
        "ivanti" | "pulsesecure" | "pulse secure" => Scheme::Ivanti,
        "paloaltonetworks" | "palo alto networks" | "palo-alto-networks" => Scheme::PanOs,
        "cisco" if product == "ios" || product == "ios software" => Scheme::CiscoIosTrain,
        _ => Scheme::Generic,
    }
}

/// Undoes CPE quoting (`15.2\(5\)e`) and lower-cases.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out.to_lowercase()
}

/// The version as it compares: quoting undone, lower case, a leading
/// `v`/`ver.`/`version` dropped, and the scheme's own clean-up.
pub fn normalise(scheme: Scheme, text: &str) -> String {
    let mut v = unescape(text.trim());
    for prefix in ["version", "ver.", "ver", "v"] {
        if let Some(rest) = v.strip_prefix(prefix)
            && rest.starts_with(|c: char| c.is_ascii_digit() || c == ' ' || c == '.')
        {
            v = rest.trim_start_matches([' ', '.']).to_string();
            break;
        }
    }
    if scheme == Scheme::Fortinet
        && let Some(i) = v.find([',', ' ']).filter(|&i| v[i..].contains("build"))
    {
        v.truncate(i);
    }
    v.trim().to_string()
}

/// Splits an inventory's release into the CPE's version and update fields:
/// Ivanti `22.4R2.1` → (`22.4`, `r2.1`), PAN-OS `10.2.9-h1` → (`10.2.9`,
/// `h1`), Linux `6.8-rc1` → (`6.8`, `rc1`). Other versions keep no update.
pub fn split_update(scheme: Scheme, text: &str) -> (String, Option<String>) {
    let v = normalise(scheme, text);
    let split_at = match scheme {
        Scheme::Ivanti => v.find('r').filter(|&i| i > 0),
        Scheme::PanOs => v.find("-h").map(|i| i + 1).filter(|&i| i > 0),
        _ => v.find("-rc").map(|i| i + 1),
    };
    match split_at {
        Some(i) => {
            let (version, update) = v.split_at(i);
            (
                version.trim_end_matches(['-', '.']).to_string(),
                Some(update.to_string()),
            )
        }
        None => (v, None),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Number(u64),
    Text(String),
}

const PRE_RELEASE: [&str; 7] = ["alpha", "beta", "rc", "pre", "preview", "dev", "b"];

fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    let flush = |current: &mut String, digits: bool, out: &mut Vec<Piece>| {
        if current.is_empty() {
            return;
        }
        out.push(if digits {
            // Overlong digit runs compare as text rather than overflow.
            current
                .parse()
                .map(Piece::Number)
                .unwrap_or_else(|_| Piece::Text(current.clone()))
        } else {
            Piece::Text(current.clone())
        });
        current.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !digits {
                flush(&mut current, digits, &mut out);
                digits = true;
            }
            current.push(c);
        } else if c.is_alphanumeric() {
            if digits {
                flush(&mut current, digits, &mut out);
                digits = false;
            }
            current.push(c);
        } else {
            flush(&mut current, digits, &mut out);
        }
    }
    flush(&mut current, digits, &mut out);
    out
}

fn is_pre_release(piece: Option<&Piece>) -> bool {
    matches!(piece, Some(Piece::Text(t)) if PRE_RELEASE.contains(&t.as_str()))
}

/// Compares two normalised versions piece by piece.
fn compare_generic(a: &str, b: &str) -> Ordering {
    let (a, b) = (pieces(a), pieces(b));
    for i in 0..a.len().max(b.len()) {
        let order = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => match (x, y) {
                (Piece::Number(x), Piece::Number(y)) => x.cmp(y),
                (Piece::Text(x), Piece::Text(y)) => {
                    match (is_pre_release(Some(&a[i])), is_pre_release(Some(&b[i]))) {
                        (true, false) => Ordering::Less,
                        (false, true) => Ordering::Greater,
                        _ => x.cmp(y),
                    }
                }
                // A number continues the release; a pre-release tag ends
                // before it, any other tag after.
                (Piece::Number(_), Piece::Text(_)) => {
                    if is_pre_release(Some(y)) {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (Piece::Text(_), Piece::Number(_)) => {
                    if is_pre_release(Some(x)) {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
            },
            // A missing number is a zero (7.0 = 7.0.0); otherwise the
            // longer one has more, unless it goes on with a pre-release tag.
            (Some(Piece::Number(0)), None) | (None, Some(Piece::Number(0))) => Ordering::Equal,
            (Some(x), None) => {
                if is_pre_release(Some(x)) {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (None, Some(y)) => {
                if is_pre_release(Some(y)) {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (None, None) => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// How `a` compares with `b` under `scheme`; `None` when the scheme knows
/// no order between them (two different IOS trains) or either is empty.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (normalise(scheme, a), normalise(scheme, b));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    match scheme {
        Scheme::CiscoIosTrain => (a == b).then_some(Ordering::Equal),
        _ => Some(compare_generic(&a, &b)),
    }
}

/// Whether `version` lies in `range`; `None` when it cannot be told (no
/// order under the scheme). An empty range holds every version.
pub fn in_range(scheme: Scheme, version: &str, range: &VersionRange) -> Option<bool> {
    let check = |bound: &Option<Bound>, above: bool| -> Option<bool> {
        let Some(b) = bound else { return Some(true) };
        let order = compare(scheme, version, &b.version)?;
        Some(match (above, b.inclusive) {
            (true, true) => order != Ordering::Less,
            (true, false) => order == Ordering::Greater,
            (false, true) => order != Ordering::Greater,
            (false, false) => order == Ordering::Less,
        })
    };
    Some(check(&range.start, true)? && check(&range.end, false)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(scheme: Scheme, a: &str, b: &str) {
        assert_eq!(compare(scheme, a, b), Some(Ordering::Less), "{a} < {b}");
        assert_eq!(compare(scheme, b, a), Some(Ordering::Greater), "{b} > {a}");
    }

    fn range(start: Option<(&str, bool)>, end: Option<(&str, bool)>) -> VersionRange {
        let bound = |b: Option<(&str, bool)>| {
            b.map(|(v, inclusive)| Bound {
                version: v.to_string(),
                inclusive,
            })
        };
        VersionRange {
            start: bound(start),
            end: bound(end),
        }
    }

    #[test]
    fn dotted_numbers_compare_numerically_and_trailing_zeros_do_not_count() {
        let g = Scheme::Generic;
        lt(g, "7.0.9", "7.0.12");
        lt(g, "6.4.15", "7.0.0");
        assert_eq!(compare(g, "7.0", "7.0.0"), Some(Ordering::Equal));
        lt(g, "10.0.17763.2183", "10.0.19044.2846");
        lt(g, "13.1-49.13", "13.1-49.15");
        lt(g, "6.5.4.15.116n", "7.0.1-5035");
    }

    #[test]
    fn hotfixes_and_letters_sort_after_the_release_and_pre_releases_before() {
        let p = Scheme::PanOs;
        lt(p, "11.1.2", "11.1.2-h3");
        lt(p, "11.1.2-h9", "11.1.2-h10");
        lt(Scheme::Generic, "V2.1", "V2.1a");
        lt(Scheme::Generic, "6.8-rc1", "6.8");
        lt(Scheme::Generic, "2.0-beta9", "2.0");
        lt(Scheme::Generic, "2.0-beta9", "2.0-rc1");
    }

    #[test]
    fn vendor_clean_up_and_update_fields() {
        let f = scheme_for("fortinet", "fortios");
        assert_eq!(f, Scheme::Fortinet);
        assert_eq!(normalise(f, "v7.0.12,build0523"), "7.0.12");
        assert_eq!(normalise(Scheme::Generic, "Ver.1.2.4"), "1.2.4");
        assert_eq!(
            split_update(scheme_for("ivanti", "connect_secure"), "22.4R2.1"),
            ("22.4".to_string(), Some("r2.1".to_string()))
        );
        assert_eq!(
            split_update(scheme_for("paloaltonetworks", "pan-os"), "10.2.9-h1"),
            ("10.2.9".to_string(), Some("h1".to_string()))
        );
        assert_eq!(
            split_update(Scheme::Generic, "6.8-rc1"),
            ("6.8".to_string(), Some("rc1".to_string()))
        );
        assert_eq!(
            split_update(Scheme::Generic, "7.0.12"),
            ("7.0.12".to_string(), None)
        );
    }

    #[test]
    fn ios_trains_are_only_equal_or_unknown() {
        let ios = scheme_for("cisco", "ios");
        assert_eq!(ios, Scheme::CiscoIosTrain);
        assert_eq!(
            compare(ios, "15.2(5)E", "15.2\\(5\\)e"),
            Some(Ordering::Equal)
        );
        assert_eq!(compare(ios, "15.2(4)M", "15.2(5)E"), None);
        assert_eq!(scheme_for("cisco", "ios_xe"), Scheme::Generic);
    }

    #[test]
    fn ranges_hold_their_bounds_inclusive_or_not() {
        let g = Scheme::Generic;
        let r = range(Some(("7.0.0", true)), Some(("7.0.14", false)));
        assert_eq!(in_range(g, "7.0.0", &r), Some(true));
        assert_eq!(in_range(g, "7.0.13", &r), Some(true));
        assert_eq!(in_range(g, "7.0.14", &r), Some(false), "just outside");
        assert_eq!(in_range(g, "6.4.99", &r), Some(false));
        let r = range(None, Some(("5.9.2.14-13o", true)));
        assert_eq!(in_range(g, "5.9.2.14-13o", &r), Some(true));
        assert_eq!(in_range(g, "5.9.2.14-14o", &r), Some(false));
        assert_eq!(
            in_range(g, "anything", &VersionRange::default()),
            Some(true)
        );
        let ios = Scheme::CiscoIosTrain;
        assert_eq!(
            in_range(ios, "15.2(4)M", &range(None, Some(("15.2(5)E", false)))),
            None
        );
        // PAN-OS: 11.1.2-h3 is not in [11.1.0, 11.1.2).
        let p = Scheme::PanOs;
        let r = range(Some(("11.1.0", true)), Some(("11.1.2", false)));
        assert_eq!(in_range(p, "11.1.2-h3", &r), Some(false));
        assert_eq!(in_range(p, "11.1.1-h1", &r), Some(true));
    }
}
