use super::*;
use calamine::{Data, Reader, Xlsx};
use mamori_domain::statistics::{DisclosureRules, Suppression};
use quick_xml::Reader as XmlReader;
use quick_xml::events::Event;
use std::io::Cursor;

const TITLE: &str = "令和8年度 医療機関サイバーセキュリティ調査 集計結果";

fn value(value: f64, hospitals: u32) -> PublishedCell {
    PublishedCell::Value { value, hospitals }
}

fn withheld() -> PublishedCell {
    PublishedCell::Suppressed(Suppression::Withheld)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Shares by hospital size, with row totals only (as a checklist table):
/// the 20–99 beds row's 未対応 is withheld.
fn share_table() -> ProtectedTable {
    ProtectedTable {
        id: "backup-by-size".to_owned(),
        title_ja: "病床規模別 オフラインバックアップの実施率".to_owned(),
        title_en: "Offline backups by hospital size".to_owned(),
        measure: Measure::Share,
        rows: strings(&[
            "=HYPERLINK(\"http://example.com\")",
            "20〜99床",
            "100〜199床の地域医療支援病院および救急告示病院を含むとても長い区分名",
        ]),
        columns: strings(&["実施", "未対応"]),
        rows_en: strings(&["=HYPERLINK(\"http://example.com\")", "20–99 beds", ""]),
        columns_en: strings(&["done", "not yet"]),
        cells: vec![
            vec![value(1.0 / 3.0, 6), value(2.0 / 3.0, 6)],
            vec![value(0.5, 8), withheld()],
            vec![value(0.25, 12), value(0.75, 12)],
        ],
        row_totals: vec![value(1.0, 6), withheld(), value(1.0, 12)],
        column_totals: Vec::new(),
        total: None,
        rules: DisclosureRules::default(),
    }
}

/// Counts with every total published; one column total is withheld.
fn count_table() -> ProtectedTable {
    ProtectedTable {
        id: "connections".to_owned(),
        title_ja: "外部接続の件数: 種別[VPN/専用線]".to_owned(),
        title_en: String::new(),
        measure: Measure::Count,
        rows: strings(&["東日本", "西日本"]),
        columns: strings(&["VPN", "専用線"]),
        rows_en: Vec::new(),
        columns_en: Vec::new(),
        cells: vec![
            vec![value(6.0, 5), withheld()],
            vec![value(9.0, 7), withheld()],
        ],
        row_totals: vec![value(8.0, 5), value(12.0, 7)],
        column_totals: vec![value(15.0, 12), withheld()],
        total: Some(value(20.0, 12)),
        rules: DisclosureRules::default(),
    }
}

fn tables() -> Vec<ProtectedTable> {
    vec![share_table(), count_table()]
}

fn document(tables: &[ProtectedTable]) -> StatisticsDocument<'_> {
    StatisticsDocument {
        title: TITLE,
        number: 3,
        audience: "一般公開",
        k: 5,
        hospitals: 128,
        published_on: "2026-06-30",
        tables,
    }
}

/// Parses `svg` as XML, failing the test on an error; the `rect` elements
/// with `class="bar"` and every text content (entities resolved).
fn parse_svg(svg: &str) -> (usize, Vec<String>) {
    let mut reader = XmlReader::from_str(svg);
    let mut bars = 0;
    let mut texts = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    loop {
        let event = reader.read_event();
        if !matches!(event, Ok(Event::Text(_)) | Ok(Event::GeneralRef(_))) && !current.is_empty() {
            texts.push(std::mem::take(&mut current));
        }
        match event {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                depth += 1;
                bars += usize::from(is_bar(&e));
            }
            Ok(Event::Empty(e)) => bars += usize::from(is_bar(&e)),
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => current.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) => current.push(match &*r {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                other => panic!("unexpected entity {other:?}"),
            }),
            Ok(_) => {}
            Err(e) => panic!("not XML: {e}\n{svg}"),
        }
        assert!(depth >= 0);
    }
    assert_eq!(depth, 0, "unbalanced elements");
    (bars, texts)
}

fn is_bar(e: &quick_xml::events::BytesStart<'_>) -> bool {
    e.name().as_ref() == "rect"
        && e.attributes()
            .flatten()
            .any(|a| a.key.as_ref() == "class" && &*a.value == "bar")
}

#[test]
fn cell_texts_per_measure_and_language() {
    let third = value(1.0 / 3.0, 6);
    assert_eq!(cell_text(&third, Measure::Share, "ja"), "33.3%");
    assert_eq!(cell_text(&value(6.0, 6), Measure::Count, "ja"), "6");
    assert_eq!(cell_text(&value(12.5, 6), Measure::Mean, "en"), "12.5");
    assert_eq!(cell_text(&value(12.0, 6), Measure::Mean, "ja"), "12.0");
    assert_eq!(cell_text(&value(12.25, 6), Measure::Sum, "ja"), "12.25");
    assert_eq!(cell_text(&value(40.0, 6), Measure::Sum, "ja"), "40");
    assert_eq!(cell_text(&value(-0.2, 6), Measure::Count, "ja"), "0");
    assert_eq!(cell_text(&withheld(), Measure::Share, "ja"), "—（秘匿）");
    assert_eq!(
        cell_text(&withheld(), Measure::Count, "en"),
        "— (suppressed)"
    );
}

#[test]
fn chart_has_every_row_and_no_bar_for_a_withheld_cell() {
    let table = share_table();
    let svg = statistics_chart_svg(&table, "ja");
    let (bars, texts) = parse_svg(&svg);
    // Six cells, one withheld.
    assert_eq!(bars, 5);
    for row in &table.rows {
        assert!(
            texts.iter().any(|t| t == row) || texts.iter().any(|t| t.contains(row.as_str())),
            "row label {row} missing"
        );
    }
    // The long label is cut on screen, whole in its tooltip.
    assert!(texts.iter().any(|t| t.ends_with('…')));
    assert!(texts.iter().any(|t| t == "秘匿"));
    assert!(texts.iter().any(|t| t == "33.3%"));
    assert!(texts.iter().any(|t| t == "100%"), "share axis to 100 %");
    assert!(texts.iter().any(|t| t == "実施") && texts.iter().any(|t| t == "未対応"));
    // Escaped, no script, no web fonts.
    assert!(svg.contains("=HYPERLINK(&quot;http://example.com&quot;)"));
    assert!(!svg.contains("<script") && !svg.contains("@font-face"));
    assert!(svg.contains("IPAexGothic") && svg.contains("Noto Sans CJK JP"));
    assert!(svg.contains("sans-serif"));
    assert!(svg.contains(r#"width="720""#));
}

#[test]
fn chart_grows_with_rows_and_speaks_english() {
    let mut table = count_table();
    let small = statistics_chart_svg(&table, "en");
    let (bars, texts) = parse_svg(&small);
    assert_eq!(bars, 2);
    assert!(texts.iter().any(|t| t == "suppressed"));
    // No English title: the Japanese one.
    assert!(texts.iter().any(|t| t.contains("外部接続の件数")));
    table.rows.push("北海道".to_owned());
    table.cells.push(vec![value(3.0, 5), value(4.0, 6)]);
    let larger = statistics_chart_svg(&table, "en");
    let height = |svg: &str| {
        let start = svg.find("height=\"").expect("height") + 8;
        let end = start + svg[start..].find('"').expect("end");
        svg[start..end].parse::<f64>().expect("number")
    };
    assert!(height(&larger) > height(&small));
    parse_svg(&larger);
    // A single column needs no legend; an empty table still draws.
    let mut single = share_table();
    single.columns.truncate(1);
    single.columns_en.truncate(1);
    for row in &mut single.cells {
        row.truncate(1);
    }
    let (bars, _) = parse_svg(&statistics_chart_svg(&single, "ja"));
    assert_eq!(bars, 3);
    single.rows.clear();
    single.cells.clear();
    let (bars, texts) = parse_svg(&statistics_chart_svg(&single, "ja"));
    assert_eq!(bars, 0);
    assert!(texts.iter().any(|t| t == "表示できる値がありません"));
}

#[test]
fn csv_has_a_bom_the_facts_and_every_table() {
    let tables = tables();
    let bytes = statistics_csv(&document(&tables), "ja");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    assert!(text.contains(TITLE));
    assert!(text.contains("一般公開"));
    assert!(text.contains("5未満の医療機関から算出される値などは秘匿しています"));
    assert!(text.contains("2026-06-30"));
    assert!(text.contains("—（秘匿）"));
    assert!(text.contains("33.3%"));
    // A formula-looking label is defused.
    assert!(text.contains("\"'=HYPERLINK(\"\"http://example.com\"\")\""));
    assert!(!text.contains(",=HYPERLINK"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect();
    assert!(records.contains(&strings(&["区分", "実施", "未対応", "計"])));
    assert!(records.contains(&strings(&["20〜99床", "50.0%", "—（秘匿）", "—（秘匿）"])));
    assert!(records.contains(&strings(&["計", "15", "—（秘匿）", "20"])));
    assert!(records.contains(&strings(&["東日本", "6", "—（秘匿）", "8"])));
    assert!(records.contains(&strings(&["外部接続の件数: 種別[VPN/専用線]"])));
    assert!(text.contains("\r\n\r\n"), "blocks are separated");
}

#[test]
fn csv_in_english_and_as_a_draft() {
    let tables = tables();
    let mut doc = document(&tables);
    doc.published_on = "";
    let bytes = statistics_csv(&doc, "en");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    assert!(text.contains("Offline backups by hospital size"));
    assert!(text.contains("20–99 beds,50.0%,— (suppressed),— (suppressed)"));
    assert!(text.contains("Category,done,not yet,Total"));
    assert!(text.contains("fewer than 5 hospitals"));
    assert!(text.contains("(draft, not yet published)"));
    // An empty English label falls back to the Japanese one.
    assert!(text.contains("100〜199床"));
}

fn read_sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("workbook");
    book.worksheet_range(name).expect("sheet")
}

fn find(range: &calamine::Range<Data>, wanted: &Data) -> Option<(u32, u32)> {
    range
        .cells()
        .find(|(_, _, data)| *data == wanted)
        .map(|(r, c, _)| (r as u32, c as u32))
}

#[test]
fn workbook_reads_back_with_text_and_numbers() {
    let tables = tables();
    let bytes = statistics_xlsx(&document(&tables), "ja").expect("workbook");
    let book: Xlsx<_> = Xlsx::new(Cursor::new(&bytes[..])).expect("workbook");
    let names = book.sheet_names();
    assert_eq!(names.len(), 3);
    assert_eq!(names[0], "概要");
    for name in &names {
        assert!(name.encode_utf16().count() <= 31, "{name}");
        assert!(
            !name.contains(['[', ']', ':', '*', '?', '/', '\\']),
            "{name}"
        );
    }

    let cover = read_sheet(&bytes, "概要");
    assert_eq!(
        cover.get_value((0, 0)),
        Some(&Data::String(TITLE.to_owned()))
    );
    let note = Data::String("5未満の医療機関から算出される値などは秘匿しています".to_owned());
    assert!(find(&cover, &note).is_some());
    let (r, _) = find(&cover, &Data::String("集計対象医療機関数".to_owned())).expect("label");
    assert_eq!(cover.get_value((r, 1)), Some(&Data::Float(128.0)));

    let shares = read_sheet(&bytes, &names[1]);
    let (r, c) = find(&shares, &Data::String("20〜99床".to_owned())).expect("row");
    assert_eq!(shares.get_value((r, c + 1)), Some(&Data::Float(0.5)));
    assert_eq!(
        shares.get_value((r, c + 2)),
        Some(&Data::String("—（秘匿）".to_owned()))
    );
    // The formula-looking label is text, not a formula.
    let label = Data::String("=HYPERLINK(\"http://example.com\")".to_owned());
    assert!(find(&shares, &label).is_some());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(&bytes[..])).expect("workbook");
    let formulas = book.worksheet_formula(&names[1]).expect("formulas");
    assert!(formulas.cells().all(|(_, _, f)| f.is_empty()));

    let counts = read_sheet(&bytes, &names[2]);
    let (r, c) = find(&counts, &Data::String("計".to_owned())).expect("header total");
    let total_row = (r + 1..=counts.end().expect("end").0)
        .find(|row| counts.get_value((*row, 0)) == Some(&Data::String("計".to_owned())))
        .expect("total line");
    assert_eq!(counts.get_value((total_row, c)), Some(&Data::Float(20.0)));

    // The percent format is on the shares.
    let styles = {
        use std::io::Read;
        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes[..])).expect("zip");
        let mut file = archive.by_name("xl/styles.xml").expect("styles");
        let mut text = String::new();
        file.read_to_string(&mut text).expect("utf-8");
        text
    };
    assert!(styles.contains("0.0%"));
}

#[test]
fn sheet_names_are_valid_distinct_and_not_the_cover() {
    let names = sheet_names(
        &["概要"],
        [
            "概要",
            "外部接続の件数: 種別[VPN/専用線]",
            "外部接続の件数: 種別[VPN/専用線]",
            "'History'",
            "",
            "とても長い表の名前がここに入りますがエクセルは三十一文字までしか使えません",
        ],
    );
    assert_eq!(names[0], "概要(2)");
    assert_eq!(names[1], "外部接続の件数_ 種別_VPN_専用線_");
    assert_eq!(names[2], "外部接続の件数_ 種別_VPN_専用線_(2)");
    assert_eq!(names.len(), 6);
    let mut seen: Vec<String> = vec!["概要".to_owned()];
    for name in &names {
        assert!(!name.is_empty());
        assert!(name.encode_utf16().count() <= 31, "{name}");
        assert!(
            !name.contains(['[', ']', ':', '*', '?', '/', '\\']),
            "{name}"
        );
        assert!(!seen.iter().any(|s| s.to_lowercase() == name.to_lowercase()));
        seen.push(name.clone());
    }
    // The workbook accepts them.
    let many: Vec<ProtectedTable> = (0..3)
        .map(|_| {
            let mut t = share_table();
            t.title_ja = "x".repeat(40);
            t
        })
        .collect();
    let bytes = statistics_xlsx(&document(&many), "ja").expect("workbook");
    let book: Xlsx<_> = Xlsx::new(Cursor::new(&bytes[..])).expect("workbook");
    assert_eq!(book.sheet_names().len(), 4);
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn pdf_has_the_title_the_facts_and_the_tables() {
    let tables = tables();
    let pdf = statistics_pdf(&document(&tables), "ja").expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));
    let text = squeeze(&pdf_extract::extract_text_from_mem(&pdf).expect("text"));
    assert!(text.contains(&squeeze(TITLE)), "{text}");
    assert!(text.contains("5未満の医療機関から算出される値などは秘匿しています"));
    assert!(text.contains("病床規模別オフラインバックアップの実施率"));
    assert!(text.contains("秘匿"));
    assert!(text.contains("33.3%"));
    assert!(text.contains("1/2") || text.contains("1/3"), "{text}");
}

#[test]
fn pdf_in_english_with_many_tables_numbers_its_pages() {
    let many: Vec<ProtectedTable> = (0..12).flat_map(|_| tables()).collect();
    let pdf = statistics_pdf(&document(&many), "en").expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));
    let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).expect("pages");
    assert!(pages.len() > 2);
    let total = pages.len();
    let last = squeeze(pages.last().expect("last"));
    assert!(last.contains(&format!("{total}/{total}")), "{last}");
    let text = squeeze(&pages.concat());
    assert!(text.contains("Offlinebackupsbyhospitalsize"));
    assert!(text.contains("(suppressed)"));
}

#[test]
fn an_empty_share_has_no_value_but_an_empty_count_is_zero() {
    let empty = PublishedCell::Value {
        value: 0.0,
        hospitals: 0,
    };
    assert_eq!(cell_text(&empty, Measure::Share, "ja"), "—");
    assert_eq!(cell_text(&empty, Measure::Mean, "en"), "—");
    assert_eq!(cell_text(&empty, Measure::Count, "ja"), "0");
}
