//! How checklist values are written in a workbook, and how people write
//! them by hand: scope labels, target years, dates, column letters.

use mamori_domain::checklist::Scope;
use time::{Date, Month};

use crate::dates::japanese_era_fiscal_year;

/// The 対象 label of a scope, as the MHLW forms print it.
pub fn scope_label(scope: Scope) -> &'static str {
    match scope {
        Scope::Organisation => "–",
        Scope::WholeSystem => "全般",
        Scope::Server => "サーバ",
        Scope::TerminalPc => "端末PC",
        Scope::NetworkDevice => "ネットワーク機器",
    }
}

/// Reads a 対象 label. `None` for an empty cell; `Err` for text that is
/// no scope.
pub fn parse_scope(text: &str) -> Result<Option<Scope>, ()> {
    let text: String = half_width(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if text.is_empty() {
        return Ok(None);
    }
    let scope = match text.as_str() {
        "サーバ" | "サーバー" => Scope::Server,
        "端末PC" | "端末pc" | "端末" => Scope::TerminalPc,
        "ネットワーク機器" | "ネットワーク" | "NW機器" => Scope::NetworkDevice,
        "全般" | "医療情報システム全般" | "システム全般" => Scope::WholeSystem,
        "–" | "-" | "―" | "—" | "‐" | "ー" => Scope::Organisation,
        other => return Scope::parse(other).map(Some).map_err(|_| ()),
    };
    Ok(Some(scope))
}

/// The valid 対象 labels, for messages.
pub const SCOPE_LABELS: &str = "サーバ, 端末PC, ネットワーク機器, 全般, –";

/// `令和6年度中`: the 目標年度 column.
pub fn fiscal_year_label(year: i32) -> String {
    format!("{}中", japanese_era_fiscal_year(year))
}

/// Reads a target year: `2024`, `2024年度`, `令和6年度`, `令和6年度中`, `R6`,
/// `令和元年度`, `平成30年度`. `Ok(None)` for an empty cell or a dash.
pub fn parse_fiscal_year(text: &str) -> Result<Option<i32>, ()> {
    let text: String = half_width(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if text.is_empty() || matches!(text.as_str(), "-" | "–" | "―" | "—" | "ー") {
        return Ok(None);
    }
    let mut rest = text.as_str();
    for suffix in ["まで", "中", "年度", "年"] {
        rest = rest.strip_suffix(suffix).unwrap_or(rest);
    }
    let (base, number) = split_era(rest);
    let year = match base {
        Some(base) => base + era_number(number).ok_or(())?,
        None if number.len() == 4 => number.parse::<i32>().map_err(|_| ())?,
        None => return Err(()),
    };
    if (2000..=2100).contains(&year) {
        Ok(Some(year))
    } else {
        Err(())
    }
}

/// The era of a Japanese year and what follows it: (the year before 元年, rest).
fn split_era(text: &str) -> (Option<i32>, &str) {
    const ERAS: [(&str, i32); 6] = [
        ("令和", 2018),
        ("R", 2018),
        ("r", 2018),
        ("平成", 1988),
        ("H", 1988),
        ("h", 1988),
    ];
    for (prefix, base) in ERAS {
        if let Some(rest) = text.strip_prefix(prefix) {
            return (Some(base), rest);
        }
    }
    (None, text)
}

fn era_number(text: &str) -> Option<i32> {
    if text == "元" {
        return Some(1);
    }
    if text.is_empty() || text.len() > 2 || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n >= 1)
}

/// Reads a date as people type it: `2024/6/1`, `2024-06-01`, `2024.6.1`,
/// `2024年6月1日`, `令和6年6月1日`, `R6.6.1`, `20240601`, or an ISO date-time.
pub fn parse_date(text: &str) -> Option<Date> {
    let text: String = half_width(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    // An ISO date-time from a date cell some tools write: keep the date.
    let text = match text.split_once('T') {
        Some((day, _)) if day.len() == 10 => day.to_owned(),
        _ => text,
    };
    if text.len() == 8 && text.chars().all(|c| c.is_ascii_digit()) {
        let year = text[0..4].parse().ok()?;
        let month = text[4..6].parse().ok()?;
        let day = text[6..8].parse().ok()?;
        return ymd(year, month, day);
    }
    let (base, rest) = split_era(&text);
    let rest = rest.strip_suffix('日').unwrap_or(rest);
    let parts: Vec<&str> = rest.split(['/', '-', '.', '年', '月']).collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let year = match base {
        Some(base) => base + era_number(year)?,
        None if year.len() == 4 => year.parse().ok()?,
        None => return None,
    };
    let small = |s: &str| -> Option<u8> {
        if s.is_empty() || s.len() > 2 || !s.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    ymd(year, small(month)?, small(day)?)
}

fn ymd(year: i32, month: u8, day: u8) -> Option<Date> {
    if !(1900..=9999).contains(&year) {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Full-width ASCII (ＡＢＣ１２３／) to half-width, as pasted from a form.
fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Excel's last column, XFD.
const MAX_COLUMN: u32 = 16_383;

/// `A` → 0, `AA` → 26; `None` for anything that is not a column letter.
pub fn column_index(letters: &str) -> Option<u32> {
    let letters = letters.trim();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut index: u32 = 0;
    for c in letters.chars() {
        if !c.is_ascii_alphabetic() {
            return None;
        }
        let digit = u32::from(c.to_ascii_uppercase()) - u32::from('A') + 1;
        index = index * 26 + digit;
    }
    let index = index - 1;
    (index <= MAX_COLUMN).then_some(index)
}

/// 0 → `A`, 26 → `AA`.
pub fn column_letter(index: u32) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn scopes_as_printed_and_as_typed() {
        for scope in Scope::ALL {
            assert_eq!(parse_scope(scope_label(*scope)), Ok(Some(*scope)));
        }
        assert_eq!(parse_scope("端末 PC"), Ok(Some(Scope::TerminalPc)));
        assert_eq!(parse_scope("ネットワーク"), Ok(Some(Scope::NetworkDevice)));
        assert_eq!(
            parse_scope("医療情報システム全般"),
            Ok(Some(Scope::WholeSystem))
        );
        assert_eq!(parse_scope("server"), Ok(Some(Scope::Server)));
        assert_eq!(parse_scope(" "), Ok(None));
        assert_eq!(parse_scope("サーバー室"), Err(()));
    }

    #[test]
    fn target_years() {
        for text in [
            "2024",
            "令和6年度",
            "R6",
            "令和6年度中",
            "２０２４年度",
            "Ｒ６",
        ] {
            assert_eq!(parse_fiscal_year(text), Ok(Some(2024)), "{text}");
        }
        assert_eq!(parse_fiscal_year("令和元年度"), Ok(Some(2019)));
        assert_eq!(parse_fiscal_year("平成30年度"), Ok(Some(2018)));
        assert_eq!(parse_fiscal_year(""), Ok(None));
        assert_eq!(parse_fiscal_year("–"), Ok(None));
        for text in ["24", "来年度", "R", "2024年度末頃", "1999"] {
            assert_eq!(parse_fiscal_year(text), Err(()), "{text}");
        }
        assert_eq!(parse_fiscal_year(&fiscal_year_label(2024)), Ok(Some(2024)));
    }

    #[test]
    fn dates_as_typed() {
        let june = date!(2024 - 06 - 01);
        for text in [
            "2024/6/1",
            "2024-06-01",
            "2024.6.1",
            "2024年6月1日",
            "令和6年6月1日",
            "R6.6.1",
            "20240601",
            "２０２４／６／１",
            "2024-06-01T00:00:00",
        ] {
            assert_eq!(parse_date(text), Some(june), "{text}");
        }
        for text in ["2024/2/30", "6/1", "昨日", "2024/6", "24/6/1", ""] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_index("A"), Some(0));
        assert_eq!(column_index("z"), Some(25));
        assert_eq!(column_index("AA"), Some(26));
        assert_eq!(column_index("XFD"), Some(16_383));
        for bad in ["", "XFE", "1A", "A1", "AAAA", "Ａ"] {
            assert_eq!(column_index(bad), None, "{bad}");
        }
        for i in [0, 25, 26, 701, 702, 16_383] {
            assert_eq!(column_index(&column_letter(i)), Some(i));
        }
    }
}
