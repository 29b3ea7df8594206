//! Japanese date labels, pre-formatted for merge fields.

use time::Date;

/// `2022年11月21日`: the Western-calendar form the programme's forms use.
pub fn japanese_date(date: Date) -> String {
    format!(
        "{}年{}月{}日",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The fiscal year (April to March) that starts in April of `year`, named by
/// its era: 2022 → `令和4年度`, 2019 → `令和元年度`, 2018 → `平成30年度`.
///
/// Fiscal 2019 began on 1 April 2019, still 平成31年, but the era changed a
/// month later and the government names it 令和元年度; so does this. 昭和 began
/// on 25 December 1926, so fiscal 1926 stays 大正15年度 and 昭和 starts at
/// 昭和2年度. Years before 明治 get the Western form (`1867年度`).
pub fn japanese_era_fiscal_year(year: i32) -> String {
    // (era, first fiscal year it names, the year before its 元年)
    const ERAS: [(&str, i32, i32); 5] = [
        ("令和", 2019, 2018),
        ("平成", 1989, 1988),
        ("昭和", 1927, 1925),
        ("大正", 1912, 1911),
        ("明治", 1868, 1867),
    ];
    for (name, first, before) in ERAS {
        if year >= first {
            let n = year - before;
            return if n == 1 {
                format!("{name}元年度")
            } else {
                format!("{name}{n}年度")
            };
        }
    }
    format!("{year}年度")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn western_date_without_padding() {
        assert_eq!(japanese_date(date!(2022 - 11 - 21)), "2022年11月21日");
        assert_eq!(japanese_date(date!(2023 - 03 - 01)), "2023年3月1日");
    }

    #[test]
    fn fiscal_years_by_era() {
        assert_eq!(japanese_era_fiscal_year(2022), "令和4年度");
        assert_eq!(japanese_era_fiscal_year(2019), "令和元年度");
        assert_eq!(japanese_era_fiscal_year(2020), "令和2年度");
        assert_eq!(japanese_era_fiscal_year(2018), "平成30年度");
        assert_eq!(japanese_era_fiscal_year(1989), "平成元年度");
        assert_eq!(japanese_era_fiscal_year(1988), "昭和63年度");
        assert_eq!(japanese_era_fiscal_year(1927), "昭和2年度");
        assert_eq!(japanese_era_fiscal_year(1926), "大正15年度");
        assert_eq!(japanese_era_fiscal_year(1912), "大正元年度");
        assert_eq!(japanese_era_fiscal_year(1868), "明治元年度");
        assert_eq!(japanese_era_fiscal_year(1867), "1867年度");
    }
}
