//! How times and optional values are shown. Times are stored in UTC and
//! shown in Japan time, where every hospital is.

use time::{
    OffsetDateTime, UtcOffset, format_description::BorrowedFormatItem, macros::format_description,
};

const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};
const MINUTES: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]");
const SECONDS: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

fn jst(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(|t| t.to_offset(JST))
}

/// `2026-11-26 21:54` (Japan time).
pub fn minutes(ms: i64) -> String {
    jst(ms)
        .and_then(|t| t.format(MINUTES).ok())
        .unwrap_or_default()
}

/// `2026-11-26 21:54:07` (Japan time), for the audit log.
pub fn seconds(ms: i64) -> String {
    jst(ms)
        .and_then(|t| t.format(SECONDS).ok())
        .unwrap_or_default()
}

pub fn optional_minutes(ms: Option<i64>) -> String {
    ms.map(minutes).unwrap_or_else(|| "—".into())
}

/// A `YYYY-MM-DD` date (Japan time) as the millisecond at its start.
pub fn date_start_ms(date: &str) -> Option<i64> {
    let format = format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), format).ok()?;
    let start = day.midnight().assume_offset(JST);
    Some((start.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_japan_time() {
        // 2026-11-26T12:54:00Z is 21:54 in Japan.
        let ms = 1_795_697_640_000;
        assert_eq!(minutes(ms), "2026-11-26 21:54");
        assert_eq!(date_start_ms("2026-11-27"), Some(1_795_705_200_000));
        assert_eq!(date_start_ms("27/11/2026"), None);
    }
}
