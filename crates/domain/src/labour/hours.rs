//! Hours in hundredths: exact sums, and the sheet's two decimals.

use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

/// A number of hours, kept in hundredths of an hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hours(i64);

impl Hours {
    pub const ZERO: Hours = Hours(0);

    pub const fn from_whole(hours: i64) -> Hours {
        Hours(hours * 100)
    }

    pub const fn from_hundredths(hundredths: i64) -> Hours {
        Hours(hundredths)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// As a float, for charts and spreadsheets.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Reads `16`, `7.5`, `1.25`, `１．５` (full-width), `-2` (kept, so the
    /// caller can say it is negative); at most two decimals.
    pub fn parse(text: &str) -> Result<Hours, DomainError> {
        let folded: String = text
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '．' => '.',
                '－' | '−' => '-',
                other => other,
            })
            .collect();
        let invalid = || {
            DomainError::invalid(
                "hours",
                format!("`{}` is not a number of hours (e.g. 7.5)", text.trim()),
            )
        };
        let (negative, digits) = match folded.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, folded.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || whole.len() > 6
        {
            return Err(invalid());
        }
        if fraction.len() > 2 {
            return Err(DomainError::invalid(
                "hours",
                format!("`{}` has more than two decimals", text.trim()),
            ));
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| invalid())? * 10,
            _ => fraction.parse().map_err(|_| invalid())?,
        };
        let value = whole * 100 + fraction;
        Ok(Hours(if negative { -value } else { value }))
    }
}

impl fmt::Display for Hours {
    /// `16.00`, `-2.50`: the sheet's form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Add for Hours {
    type Output = Hours;
    fn add(self, other: Hours) -> Hours {
        Hours(self.0 + other.0)
    }
}

impl Sub for Hours {
    type Output = Hours;
    fn sub(self, other: Hours) -> Hours {
        Hours(self.0 - other.0)
    }
}

impl AddAssign for Hours {
    fn add_assign(&mut self, other: Hours) {
        self.0 += other.0;
    }
}

impl Sum for Hours {
    fn sum<I: Iterator<Item = Hours>>(iter: I) -> Hours {
        Hours(iter.map(|h| h.0).sum())
    }
}

impl Serialize for Hours {
    /// A JSON number (`7.5`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Hours {
    /// A number or a string; more than two decimals are refused.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hours, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(serde_json::Number),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        Hours::parse(&text).map_err(serde::de::Error::custom)
    }
}
