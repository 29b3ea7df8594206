use super::*;
use mamori_domain::labour::{LabourPlan, PLAN_ROWS};
use quick_xml::Reader as XmlReader;
use quick_xml::events::Event;
use std::io::Read;
use time::macros::date;

const TITLE: &str = "病院に対するサイバーセキュリティに関する調査・報告書作成業務";

fn h(hours: &str) -> Hours {
    Hours::parse(hours).expect("test hours")
}

fn actual() -> [Hours; 17] {
    let mut actual = [Hours::ZERO; 17];
    for (i, slot) in actual.iter_mut().enumerate() {
        // 0.25, 1.50, 2.75, …: sums that a float would get wrong.
        *slot = Hours::from_hundredths(25 + 125 * i as i64);
    }
    actual
}

fn sheet(hospital: &str, company: &str) -> LabourSheet {
    LabourSheet {
        title: TITLE.to_owned(),
        hospital: hospital.to_owned(),
        company: company.to_owned(),
        plan: LabourPlan::default(),
        actual: actual(),
    }
}

/// One part of the xlsx (a zip) as text.
fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut file = archive.by_name(name).expect("part");
    let mut text = String::new();
    file.read_to_string(&mut text).expect("utf-8");
    text
}

#[test]
fn sheet_reads_back_in_the_seed_layout() {
    let bytes =
        labour_sheet_xlsx(&sheet("さくら台総合病院", "みなとセキュリティ"), "ja").expect("sheet");
    let rows = labour_sheet_rows(&bytes).expect("rows");
    assert_eq!(rows[0], ["【資料6 調査担当企業工数確認票】"]);
    assert_eq!(rows[1], [TITLE]);
    assert_eq!(rows[2], ["対象病院", "さくら台総合病院"]);
    assert_eq!(rows[3], ["調査企業", "みなとセキュリティ"]);
    assert!(rows[4].is_empty());
    assert_eq!(
        rows[5],
        ["", "項目", "区分", "予定工数 (時間)", "実績工数 (時間)"]
    );
    let actual = actual();
    for (i, spec) in PLAN_ROWS.iter().enumerate() {
        let row = &rows[6 + i];
        assert_eq!(row[0], spec.number.to_string());
        assert_eq!(row[1], spec.item_ja);
        let activity = match spec.number {
            1..=14 if spec.number % 2 == 1 => "調査",
            1..=14 => "図書作成",
            _ => "",
        };
        assert_eq!(row[2], activity, "row {}", spec.number);
        assert_eq!(row[3], spec.default_hours.to_string());
        assert_eq!(row[4], actual[i].to_string());
    }
    assert_eq!(rows[6][3], "16.00");
    assert_eq!(rows[6][4], "0.25");
    let total = &rows[6 + 17];
    let sum: Hours = actual.iter().copied().sum();
    assert_eq!(total[1], "合計");
    assert_eq!(total[3], "200.00");
    assert_eq!(total[4], sum.to_string());
    assert_eq!(rows.len(), 6 + 17 + 1);

    // Values, not formulas: the total needs no recalculation.
    let xml = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!xml.contains("<f>"), "no formulas in the sheet");
    assert!(xml.contains("<pageSetup paperSize=\"9\""), "A4");
}

#[test]
fn sheet_in_english() {
    let mut s = sheet("Sakuradai General Hospital", "Minato Security");
    s.plan = LabourPlan::with(&[(15, h("3.5")), (1, h("10"))]).expect("plan");
    let rows = labour_sheet_rows(&labour_sheet_xlsx(&s, "en").expect("sheet")).expect("rows");
    assert_eq!(rows[2], ["Hospital", "Sakuradai General Hospital"]);
    assert_eq!(rows[3], ["Survey company", "Minato Security"]);
    assert_eq!(
        rows[5],
        ["", "Item", "Activity", "Planned hours", "Actual hours"]
    );
    assert_eq!(rows[6][1], PLAN_ROWS[0].item_en);
    assert_eq!(rows[6][3], "10.00");
    assert_eq!(rows[6 + 14][3], "3.50");
    assert_eq!(rows[23][1], "Total");
    assert_eq!(rows[23][3], "197.50");
}

#[test]
fn formula_like_names_stay_text() {
    let hospital = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let company = "+81-3-1234";
    let mut s = sheet(hospital, company);
    s.title = "@SUM(1)".to_owned();
    let bytes = labour_sheet_xlsx(&s, "ja").expect("sheet");
    let rows = labour_sheet_rows(&bytes).expect("rows");
    assert_eq!(rows[1], ["@SUM(1)"]);
    assert_eq!(rows[2][1], hospital);
    assert_eq!(rows[3][1], company);
    let xml = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!xml.contains("<f>") && !xml.contains("<f "), "{xml}");
    assert!(zip_entry(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""));
}

fn rollup_rows() -> Vec<RollupRow> {
    let mut by_row = [Hours::ZERO; 17];
    by_row[0] = h("12.5");
    by_row[16] = h("4");
    vec![
        RollupRow {
            hospital: "さくら台総合病院".to_owned(),
            company: "みなとセキュリティ".to_owned(),
            state: "調査中".to_owned(),
            plan: h("200"),
            actual: h("16.5"),
            forecast: h("200"),
            actual_cost_yen: 82_500,
            cap_yen: 1_000_000,
            alerts: vec![],
            by_row,
        },
        RollupRow {
            hospital: "=cmd|' /C calc'!A0".to_owned(),
            company: "-2+3".to_owned(),
            state: "報告書作成中".to_owned(),
            plan: h("100"),
            actual: h("85.25"),
            forecast: h("110"),
            actual_cost_yen: 426_250,
            cap_yen: 500_000,
            alerts: vec![
                "予定工数の80%に到達 85%".to_owned(),
                "人件費上限の80%に到達 85%".to_owned(),
            ],
            by_row: [h("5.01"); 17],
        },
    ]
}

#[test]
fn rollup_workbook_has_a_line_per_engagement_and_a_total() {
    let bytes = labour_rollup_xlsx(&rollup_rows(), "ja").expect("rollup");
    let sheets = workbook_rows(&bytes).expect("rows");
    assert_eq!(sheets.len(), 2);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "工数集計");
    assert_eq!(rows.len(), 1 + 2 + 1);
    assert_eq!(rows[0][0], "病院");
    assert_eq!(rows[0][9], "アラート");
    assert_eq!(
        rows[1],
        [
            "さくら台総合病院",
            "みなとセキュリティ",
            "調査中",
            "200.00",
            "16.50",
            "8.00",
            "200.00",
            "82500.00",
            "1000000.00"
        ]
    );
    assert_eq!(rows[2][0], "=cmd|' /C calc'!A0");
    assert_eq!(rows[2][5], "85.00");
    assert_eq!(
        rows[2][9],
        "予定工数の80%に到達 85%、人件費上限の80%に到達 85%"
    );
    assert_eq!(rows[3][0], "合計");
    assert_eq!(rows[3][3], "300.00");
    assert_eq!(rows[3][4], "101.75");
    assert_eq!(rows[3][5], "33.00");
    assert_eq!(rows[3][6], "310.00");
    assert_eq!(rows[3][7], "508750.00");
    assert_eq!(rows[3][8], "1500000.00");

    let (name, rows) = &sheets[1];
    assert_eq!(name, "行別実績");
    assert_eq!(rows.len(), 1 + 2 + 1);
    assert!(rows[0][2].starts_with("1. ①チェックリストによるヒアリング"));
    assert!(rows[0][18].starts_with("17. その他"));
    assert_eq!(rows[0][19], "合計");
    assert_eq!(rows[1][2], "12.50");
    assert_eq!(rows[1][18], "4.00");
    assert_eq!(rows[1][19], "16.50");
    assert_eq!(rows[3][2], "17.51");
    assert_eq!(rows[3][19], "101.67");

    for part in ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"] {
        assert!(!zip_entry(&bytes, part).contains("<f>"), "{part}");
    }

    let en = workbook_rows(&labour_rollup_xlsx(&rollup_rows(), "en").expect("en")).expect("rows");
    assert_eq!(en[0].0, "Labour summary");
    assert_eq!(en[1].0, "Actual by row");
    assert_eq!(en[0].1[0][3], "Planned hours");
    assert_eq!(en[0].1[3][0], "Total");
}

#[test]
fn rollup_csv_has_bom_header_and_neutralised_text() {
    let bytes = labour_rollup_csv(&rollup_rows(), "ja").expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 2 + 1);
    assert_eq!(
        lines[0],
        "病院,調査企業,状態,予定工数(時間),実績工数(時間),消化率(%),完了見込(時間),人件費実績(円),人件費上限(円),アラート"
    );
    assert_eq!(
        lines[1],
        "さくら台総合病院,みなとセキュリティ,調査中,200.00,16.50,8,200.00,82500,1000000,"
    );
    // Text a spreadsheet would run starts with the neutralising apostrophe.
    assert_eq!(
        lines[2],
        "'=cmd|' /C calc'!A0,'-2+3,報告書作成中,100.00,85.25,85,110.00,426250,500000,\
         予定工数の80%に到達 85%、人件費上限の80%に到達 85%"
    );
    assert!(!text.contains("\"1"), "numbers unquoted");
    assert_eq!(lines[3], "合計,,,300.00,101.75,33,310.00,508750,1500000,");

    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(&records[1][0], "'=cmd|' /C calc'!A0");

    let en = labour_rollup_csv(&[], "en").expect("csv");
    let en = std::str::from_utf8(&en[3..]).expect("utf-8");
    assert!(en.starts_with("Hospital,Survey company,State,Planned hours,"));
    assert!(
        en.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("Total,,,0.00,0.00,,"))
    );
}

fn burnup() -> BurnUp {
    BurnUp {
        title: "さくら台総合病院 <工数> & 予定".to_owned(),
        weeks: vec![
            (date!(2022 - 12 - 12), h("20")),
            (date!(2022 - 11 - 28), h("8.5")),
            (date!(2022 - 12 - 05), h("12")),
        ],
        plan: h("200"),
        cap_hours: cap_hours(1_000_000, 4_000),
        forecast: Some(h("215")),
    }
}

/// Parse the whole document; return element names, the texts, and the
/// attributes `points` of polylines.
fn parse(svg: &str) -> (Vec<String>, String, Vec<String>) {
    let mut reader = XmlReader::from_str(svg);
    let mut names = Vec::new();
    let mut text = String::new();
    let mut points = Vec::new();
    let mut depth = 0i32;
    loop {
        let element = match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                Some(e)
            }
            Ok(Event::Empty(e)) => Some(e),
            Ok(Event::End(_)) => {
                depth -= 1;
                None
            }
            Ok(Event::Text(t)) => {
                text.push_str(&t.xml10_content());
                None
            }
            Ok(Event::GeneralRef(r)) => {
                text.push(match &*r {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("unexpected entity {other:?}"),
                });
                None
            }
            Ok(Event::Eof) => break,
            Ok(_) => None,
            Err(err) => panic!("invalid XML at {}: {err}", reader.buffer_position()),
        };
        if let Some(e) = element {
            let name = e.name().as_ref().to_owned();
            if name == "polyline" {
                for attr in e.attributes() {
                    let attr = attr.expect("attribute");
                    if attr.key.as_ref() == "points" {
                        points.push(attr.value.to_string());
                    }
                }
            }
            names.push(name);
        }
        assert!(depth >= 0);
    }
    assert_eq!(depth, 0, "unbalanced");
    (names, text, points)
}

#[test]
fn burnup_draws_cumulative_plan_cap_and_forecast() {
    let svg = burnup_svg(&burnup(), "ja");
    let (names, text, points) = parse(&svg);
    assert_eq!(names[0], "svg");
    assert_eq!(names[1], "title", "accessible title first");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"320\" viewBox=\"0 0 720 320\""));
    assert_eq!(points.len(), 1);
    let pts: Vec<(f64, f64)> = points[0]
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect();
    assert_eq!(pts.len(), 3, "one point per week");
    assert!(pts.windows(2).all(|w| w[0].0 < w[1].0), "in date order");
    assert!(pts.windows(2).all(|w| w[0].1 > w[1].1), "rising");
    // Cumulative 8.50, 20.50, 40.50; the last one labelled.
    assert!(text.contains("40.50"));
    assert!(text.contains("2022-12-05の週 12.00時間（累計 20.50時間）"));
    for tick in ["11/28", "12/05", "12/12"] {
        assert!(text.contains(tick), "{tick}");
    }
    for legend in [
        "実績累計",
        "予定工数 200.00",
        "人件費上限 250.00",
        "完了見込み 215.00",
    ] {
        assert!(text.contains(legend), "{legend}");
    }
    assert!(
        svg.contains("stroke=\"#d32f2f\" stroke-width=\"1.5\" stroke-dasharray"),
        "cap dashed"
    );
    assert!(!svg.contains("style="), "no inline styles (CSP)");

    let en = burnup_svg(&burnup(), "en");
    let (_, text, _) = parse(&en);
    for legend in [
        "cumulative actual",
        "planned 200.00",
        "labour cap 250.00",
        "forecast 215.00",
    ] {
        assert!(text.contains(legend), "{legend}");
    }
}

#[test]
fn burnup_without_weeks_or_extras() {
    let empty = BurnUp {
        title: String::new(),
        weeks: vec![],
        plan: h("200"),
        cap_hours: None,
        forecast: None,
    };
    let svg = burnup_svg(&empty, "ja");
    let (_, text, points) = parse(&svg);
    assert!(points.is_empty());
    assert!(text.contains("まだ工数の記録がありません"));
    assert!(text.contains("予定工数 200.00"));
    assert!(!text.contains("人件費上限") && !text.contains("完了見込み"));
    let (_, text, _) = parse(&burnup_svg(&empty, "en"));
    assert!(text.contains("No hours yet"));

    // One week, nothing planned: still a chart.
    let one = BurnUp {
        weeks: vec![(date!(2023 - 01 - 02), h("7.25"))],
        plan: Hours::ZERO,
        ..empty
    };
    let (_, text, points) = parse(&burnup_svg(&one, "ja"));
    assert_eq!(points[0].split(' ').count(), 1);
    assert!(text.contains("01/02") && text.contains("7.25"));
}

#[test]
fn burnup_text_is_escaped() {
    let svg = burnup_svg(&burnup(), "ja");
    assert!(svg.contains("さくら台総合病院 &lt;工数&gt; &amp; 予定"));
    assert!(!svg.contains("<工数>"));
    let (_, text, _) = parse(&svg);
    assert!(text.contains("さくら台総合病院 <工数> & 予定"));
}

#[test]
fn cap_in_hours() {
    assert_eq!(cap_hours(1_000_000, 4_000), Some(h("250")));
    assert_eq!(cap_hours(1_000, 3), Some(h("333.33")));
    assert_eq!(cap_hours(1_000, 0), None);
}

#[test]
fn actual_from_summary_rows() {
    let rows = [
        RowTotal {
            number: 2,
            plan: h("16"),
            actual: h("3.5"),
            forecast: h("16"),
        },
        RowTotal {
            number: 99,
            plan: h("1"),
            actual: h("1"),
            forecast: h("1"),
        },
    ];
    let actual = LabourSheet::actual_from_rows(&rows);
    assert_eq!(actual[1], h("3.5"));
    assert_eq!(actual.iter().copied().sum::<Hours>(), h("3.5"));
}

#[test]
fn reader_refuses_what_is_not_a_workbook() {
    assert!(labour_sheet_rows(b"not a zip").is_err());
    assert!(labour_sheet_rows(b"").is_err());
}
