//! Checklists as workbooks and PDF: export, read-back, framework import and
//! the refusals of uploaded files.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use calamine::{Data, Reader, Xlsx};
use mamori_documents::DocumentError;
use mamori_documents::checklist::{
    ColumnMapping, FilledSheet, FrameworkMeta, checklist_pdf, checklist_xlsx, exported_mapping,
    import_framework, read_checklist_answers,
};
use mamori_domain::checklist::{
    Answer, AnswerStyle, AnswerValue, Audience, CellKey, Confirmation, Framework, Provenance, Scope,
};
use rust_xlsxwriter::Workbook;
use time::Date;
use time::macros::date;

const R6: &str = r#"
key = "test-r6"
title_ja = "医療機関におけるサイバーセキュリティ対策チェックリスト"
edition_ja = "令和6年度版"
fiscal_year = 2024
answer_style = "yes-no-dated"

[[forms]]
key = "hospital"
audience = "hospital"
title_ja = "医療機関確認用"

[[forms.sections]]
number = "0"
title_ja = "医療情報システムの有無"
[[forms.sections.items]]
number = "0"
text_ja = "医療情報システムを導入、運用している。"
gate = true
scope = "organisation"
provenance = "verbatim"

[[forms.sections]]
number = "1"
title_ja = "体制構築"
[[forms.sections.items]]
number = "1-(1)"
text_ja = "医療情報システム安全管理責任者を設置している。"
scope = "organisation"
required_fy = 2024
note_ja = "-x（院内規程で定めていること）"
provenance = "verbatim"

[[forms.sections]]
number = "2"
title_ja = "医療情報システムの管理・運用"
[[forms.sections.items]]
number = "2-(4)"
text_ja = "アクセス利用権限を設定している。"
provenance = "quoted"
cells = [
    { scope = "server", required_fy = 2024 },
    { scope = "terminal-pc", required_fy = 2024 },
    { scope = "network-device", required_fy = 2025 },
]
[[forms.sections.items]]
number = "2-(9)"
text_ja = "サーバ、端末PC、ネットワーク機器の不要なサービスを停止している。"
required_fy = 2024
provenance = "inferred"

[[forms]]
key = "vendor"
audience = "vendor"
title_ja = "事業者確認用"

[[forms.sections]]
number = "1"
title_ja = "体制構築"
[[forms.sections.items]]
number = "1-(1)"
text_ja = "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。"
scope = "organisation"
required_fy = 2024
provenance = "verbatim"
[[forms.sections.items]]
number = "1-(2)"
text_ja = "医療機関との契約に基づき、障害発生時の連絡体制を整備している。"
scope = "organisation"
provenance = "quoted"
"#;

const SEED_2022: &str = r#"
key = "seed-2022"
title_ja = "サイバーセキュリティ対策チェックリスト"
edition_ja = "2022年版"
answer_style = "circle"

[[forms]]
key = "executive"
audience = "executive"
title_ja = "経営層"
[[forms.sections]]
number = "1"
title_ja = "方針"
[[forms.sections.items]]
number = "1"
text_ja = "サイバーセキュリティ対策を経営の課題として認識している。"
provenance = "recollection"
[[forms.sections.items]]
number = "2"
text_ja = "インシデント発生時の連絡体制を定めている。"
provenance = "recollection"

[[forms]]
key = "administrator"
audience = "administrator"
title_ja = "システム管理者"
[[forms.sections]]
number = "1"
title_ja = "管理"
[[forms.sections.items]]
number = "1"
text_ja = "バックアップをネットワークから切り離して保管している。"
provenance = "recollection"
[[forms.sections.items]]
number = "2"
text_ja = "利用者ごとにアカウントを発行している。"
provenance = "recollection"

[[forms]]
key = "user"
audience = "user"
title_ja = "利用者"
[[forms.sections]]
number = "1"
title_ja = "利用"
[[forms.sections.items]]
number = "1"
text_ja = "パスワードを他人と共有していない。"
provenance = "recollection"
"#;

fn r6() -> Framework {
    Framework::from_toml(R6).unwrap()
}

fn seed() -> Framework {
    Framework::from_toml(SEED_2022).unwrap()
}

const TODAY: Date = date!(2024 - 07 - 10);

fn answer(value: AnswerValue, checked: Option<Date>, target: Option<Date>, note: &str) -> Answer {
    Answer {
        value,
        checked_on: checked,
        target_on: target,
        not_understood: note.to_owned(),
    }
}

fn hospital_answers() -> BTreeMap<CellKey, Answer> {
    let mut answers = BTreeMap::new();
    let june = Some(date!(2024 - 06 - 01));
    answers.insert(
        CellKey::new("0", Scope::Organisation),
        answer(AnswerValue::Yes, june, None, ""),
    );
    answers.insert(
        CellKey::new("1-(1)", Scope::Organisation),
        answer(AnswerValue::Yes, june, None, ""),
    );
    answers.insert(
        CellKey::new("2-(4)", Scope::Server),
        answer(
            AnswerValue::No,
            june,
            Some(date!(2025 - 03 - 31)),
            "「アクセス利用権限」の範囲が分からなかった",
        ),
    );
    answers.insert(
        CellKey::new("2-(4)", Scope::TerminalPc),
        answer(AnswerValue::Yes, Some(date!(2024 - 06 - 03)), None, ""),
    );
    // 2-(4) network-device is left unanswered.
    answers.insert(
        CellKey::new("2-(9)", Scope::WholeSystem),
        answer(AnswerValue::Unknown, None, None, "=1+1"),
    );
    answers
}

fn vendor_answers() -> BTreeMap<CellKey, Answer> {
    let mut answers = BTreeMap::new();
    answers.insert(
        CellKey::new("1-(1)", Scope::Organisation),
        answer(
            AnswerValue::No,
            Some(date!(2024 - 05 - 20)),
            Some(date!(2024 - 12 - 01)),
            "@SUM(A1)",
        ),
    );
    answers.insert(
        CellKey::new("1-(2)", Scope::Organisation),
        answer(AnswerValue::NotApplicable, None, None, "+81-3-1234-5678"),
    );
    answers
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    Xlsx::new(Cursor::new(bytes.to_vec())).unwrap()
}

fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

fn string(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match cell(range, row, col) {
        Data::String(s) => s,
        Data::Empty => String::new(),
        other => panic!("({row},{col}) is not text: {other:?}"),
    }
}

fn date_of(range: &calamine::Range<Data>, row: u32, col: u32) -> (u16, u8, u8) {
    match cell(range, row, col) {
        Data::DateTime(d) => {
            let (y, m, d, ..) = d.to_ymd_hms_milli();
            (y, m, d)
        }
        other => panic!("({row},{col}) is not a date: {other:?}"),
    }
}

/// The 0-based row whose 番号 and 対象 are these.
fn find_row(range: &calamine::Range<Data>, number: &str, scope: &str) -> u32 {
    (7..=range.end().unwrap().0)
        .find(|&r| string(range, r, 0) == number && string(range, r, 2) == scope)
        .unwrap_or_else(|| panic!("no row for {number} {scope}"))
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}

fn filled_export(confirmed: Option<&BTreeMap<CellKey, Confirmation>>) -> Vec<u8> {
    let framework = r6();
    let hospital = hospital_answers();
    let vendor = vendor_answers();
    let sheets = [
        FilledSheet {
            framework: &framework,
            form: framework.form("hospital").unwrap(),
            hospital: "さくら台総合病院",
            respondent: "山田 太郎",
            respondent_role: "システム管理者",
            answers: &hospital,
            confirmed,
            generated_on: TODAY,
        },
        FilledSheet {
            framework: &framework,
            form: framework.form("vendor").unwrap(),
            hospital: "さくら台総合病院",
            respondent: "株式会社みなとシステム",
            respondent_role: "事業者",
            answers: &vendor,
            confirmed: None,
            generated_on: TODAY,
        },
    ];
    checklist_xlsx(&sheets).unwrap()
}

#[test]
fn export_has_japanese_text_and_answers_in_named_columns() {
    let mut confirmed = BTreeMap::new();
    confirmed.insert(
        CellKey::new("2-(4)", Scope::Server),
        Confirmation {
            value: Some(AnswerValue::Yes),
            open: false,
        },
    );
    confirmed.insert(
        CellKey::new("2-(9)", Scope::WholeSystem),
        Confirmation {
            value: None,
            open: true,
        },
    );
    let bytes = filled_export(Some(&confirmed));
    let mut book = open(&bytes);
    assert_eq!(
        book.sheet_names(),
        [
            "医療機関確認用 山田 太郎",
            "事業者確認用 株式会社みなとシステム"
        ]
    );
    let sheet = book.worksheet_range("医療機関確認用 山田 太郎").unwrap();

    // Title block.
    assert_eq!(
        string(&sheet, 0, 0),
        "医療機関におけるサイバーセキュリティ対策チェックリスト 令和6年度版"
    );
    assert_eq!(string(&sheet, 1, 1), "医療機関確認用");
    assert_eq!(string(&sheet, 2, 0), "医療機関名");
    assert_eq!(string(&sheet, 2, 1), "さくら台総合病院");
    assert_eq!(string(&sheet, 3, 1), "山田 太郎（システム管理者）");
    assert_eq!(string(&sheet, 4, 0), "出力日");
    assert_eq!(date_of(&sheet, 4, 1), (2024, 7, 10));

    // The header row, exactly; the confirmation columns are there.
    let headers: Vec<String> = (0..11).map(|c| string(&sheet, 6, c)).collect();
    assert_eq!(
        headers,
        [
            "番号",
            "確認項目",
            "対象",
            "目標年度",
            "回答",
            "確認日",
            "目標日",
            "理解が困難であった部分",
            "備考",
            "調査員確認",
            "要継続確認"
        ]
    );

    // Section rows, then a row per cell.
    assert_eq!(string(&sheet, 7, 0), "");
    assert_eq!(string(&sheet, 7, 1), "0 医療情報システムの有無");
    let gate = find_row(&sheet, "0", "–");
    assert_eq!(
        string(&sheet, gate, 1),
        "医療情報システムを導入、運用している。"
    );
    assert_eq!(string(&sheet, gate, 4), "はい");

    let server = find_row(&sheet, "2-(4)", "サーバ");
    assert_eq!(
        string(&sheet, server, 1),
        "アクセス利用権限を設定している。"
    );
    assert_eq!(string(&sheet, server, 3), "令和6年度中");
    assert_eq!(string(&sheet, server, 4), "いいえ");
    assert_eq!(date_of(&sheet, server, 5), (2024, 6, 1));
    assert_eq!(date_of(&sheet, server, 6), (2025, 3, 31));
    assert_eq!(
        string(&sheet, server, 7),
        "「アクセス利用権限」の範囲が分からなかった"
    );
    assert_eq!(string(&sheet, server, 9), "はい");
    assert_eq!(string(&sheet, server, 10), "");

    let terminal = find_row(&sheet, "2-(4)", "端末PC");
    assert_eq!(terminal, server + 1);
    let network = find_row(&sheet, "2-(4)", "ネットワーク機器");
    assert_eq!(string(&sheet, network, 3), "令和7年度中");
    assert_eq!(string(&sheet, network, 4), "", "unanswered stays blank");
    assert_eq!(cell(&sheet, network, 5), Data::Empty);

    let whole = find_row(&sheet, "2-(9)", "全般");
    assert_eq!(string(&sheet, whole, 4), "不明");
    assert_eq!(string(&sheet, whole, 10), "要");
    let first = find_row(&sheet, "1-(1)", "–");
    assert_eq!(string(&sheet, first, 8), "-x（院内規程で定めていること）");

    // The vendor sheet has no confirmation columns.
    let vendor = book
        .worksheet_range("事業者確認用 株式会社みなとシステム")
        .unwrap();
    assert_eq!(string(&vendor, 6, 8), "備考");
    assert_eq!(cell(&vendor, 6, 9), Data::Empty);
    let row = find_row(&vendor, "1-(2)", "–");
    assert_eq!(string(&vendor, row, 4), "該当なし");

    // Frozen header, A4 landscape fitted to the width, dates as yyyy/mm/dd.
    let xml = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(xml.contains(r#"ySplit="7""#), "header not frozen");
    assert!(xml.contains(r#"orientation="landscape""#));
    assert!(xml.contains(r#"paperSize="9""#));
    assert!(xml.contains(r#"fitToHeight="0""#));
    let styles = zip_entry(&bytes, "xl/styles.xml");
    assert!(styles.contains(r#"formatCode="yyyy/mm/dd""#));
}

#[test]
fn answers_round_trip() {
    let bytes = filled_export(None);
    let sheets = read_checklist_answers(&bytes, &r6()).unwrap();
    assert_eq!(sheets.len(), 2);
    assert_eq!(sheets[0].sheet, "医療機関確認用 山田 太郎");
    assert_eq!(sheets[0].form_key, "hospital");
    assert_eq!(sheets[0].rejected, []);
    assert_eq!(sheets[0].answers, hospital_answers());
    // Same numbers as the hospital form: told apart by their text.
    assert_eq!(sheets[1].form_key, "vendor");
    assert_eq!(sheets[1].rejected, []);
    assert_eq!(sheets[1].answers, vendor_answers());
}

#[test]
fn circle_answers_round_trip_for_three_audiences() {
    let framework = seed();
    let mut per_form = Vec::new();
    for (i, form) in framework.forms.iter().enumerate() {
        let mut answers = BTreeMap::new();
        for (n, item) in form.items().enumerate() {
            let value = if (i + n) % 2 == 0 {
                AnswerValue::Yes
            } else {
                AnswerValue::No
            };
            answers.insert(
                CellKey::new(item.number.clone(), Scope::WholeSystem),
                answer(value, None, None, ""),
            );
        }
        per_form.push(answers);
    }
    let sheets: Vec<FilledSheet> = framework
        .forms
        .iter()
        .zip(&per_form)
        .map(|(form, answers)| FilledSheet {
            framework: &framework,
            form,
            hospital: "みなと記念病院",
            respondent: "",
            respondent_role: form.title_ja.as_str(),
            answers,
            confirmed: None,
            generated_on: TODAY,
        })
        .collect();
    let bytes = checklist_xlsx(&sheets).unwrap();
    let mut book = open(&bytes);
    let first = book.worksheet_range("経営層").unwrap();
    assert_eq!(string(&first, 8, 4), "○");
    assert_eq!(string(&first, 9, 4), "×");

    let read = read_checklist_answers(&bytes, &framework).unwrap();
    let keys: Vec<&str> = read.iter().map(|s| s.form_key.as_str()).collect();
    assert_eq!(keys, ["executive", "administrator", "user"]);
    for (sheet, answers) in read.iter().zip(&per_form) {
        assert_eq!(sheet.rejected, [], "{}", sheet.sheet);
        assert_eq!(&sheet.answers, answers, "{}", sheet.sheet);
    }
}

fn meta_of(framework: &Framework) -> FrameworkMeta {
    FrameworkMeta {
        key: framework.key.clone(),
        title_ja: framework.title_ja.clone(),
        edition_ja: framework.edition_ja.clone(),
        fiscal_year: framework.fiscal_year,
        answer_style: framework.answer_style,
    }
}

/// A blank export (no respondent) of every form of `framework`.
fn blank_export(framework: &Framework) -> Vec<u8> {
    let empty = BTreeMap::new();
    let sheets: Vec<FilledSheet> = framework
        .forms
        .iter()
        .map(|form| FilledSheet {
            framework,
            form,
            hospital: "",
            respondent: "",
            respondent_role: "",
            answers: &empty,
            confirmed: None,
            generated_on: TODAY,
        })
        .collect();
    checklist_xlsx(&sheets).unwrap()
}

fn assert_same_forms(imported: &Framework, original: &Framework) {
    assert_eq!(imported.key, original.key);
    assert_eq!(imported.title_ja, original.title_ja);
    assert_eq!(imported.edition_ja, original.edition_ja);
    assert_eq!(imported.fiscal_year, original.fiscal_year);
    assert_eq!(imported.answer_style, original.answer_style);
    assert_eq!(imported.forms.len(), original.forms.len());
    for (a, b) in imported.forms.iter().zip(&original.forms) {
        assert_eq!(
            (&a.key, a.audience, &a.title_ja),
            (&b.key, b.audience, &b.title_ja)
        );
        assert_eq!(a.sections.len(), b.sections.len(), "{}", a.key);
        for (x, y) in a.sections.iter().zip(&b.sections) {
            assert_eq!((&x.number, &x.title_ja), (&y.number, &y.title_ja));
            assert_eq!(x.items.len(), y.items.len(), "{} {}", a.key, x.title_ja);
            for (i, j) in x.items.iter().zip(&y.items) {
                assert_eq!(i.number, j.number);
                assert_eq!(i.text_ja, j.text_ja);
                assert_eq!(i.note_ja, j.note_ja);
                assert_eq!(i.cells, j.cells, "{} {}", a.key, i.number);
                assert_eq!(i.provenance, Provenance::Imported);
            }
        }
    }
}

#[test]
fn framework_round_trips_through_its_export() {
    for original in [r6(), seed()] {
        let bytes = blank_export(&original);
        let mappings = exported_mapping(&original);
        let import = import_framework(&bytes, &meta_of(&original), &mappings, false).unwrap();
        assert_eq!(import.rejected, [], "{}", original.key);
        let imported = import.framework.expect("framework");
        assert_same_forms(&imported, &original);
        // One preview row per cell.
        let cells: usize = original.forms.iter().map(|f| f.cells().count()).sum();
        assert_eq!(import.rows.len(), cells);
    }
    // The preview names the row, section and cell.
    let original = r6();
    let import = import_framework(
        &blank_export(&original),
        &meta_of(&original),
        &exported_mapping(&original),
        false,
    )
    .unwrap();
    let row = import
        .rows
        .iter()
        .find(|r| r.number == "2-(4)" && r.scope == Scope::NetworkDevice)
        .unwrap();
    assert_eq!(row.sheet, "医療機関確認用");
    assert_eq!(row.section, "2 医療情報システムの管理・運用");
    assert_eq!(row.required_fy, Some(2025));
    assert_eq!(row.text, "アクセス利用権限を設定している。");
}

#[test]
fn formula_looking_text_stays_text() {
    let framework = r6();
    let answers = hospital_answers();
    let sheets = [FilledSheet {
        framework: &framework,
        form: framework.form("hospital").unwrap(),
        hospital: "@SUM(A1)",
        respondent: "+81-3-1234-5678",
        respondent_role: "",
        answers: &answers,
        confirmed: None,
        generated_on: TODAY,
    }];
    let bytes = checklist_xlsx(&sheets).unwrap();
    let mut book = open(&bytes);
    let name = book.sheet_names()[0].clone();
    assert_eq!(name, "医療機関確認用 +81-3-1234-5678");
    let values = book.worksheet_range(&name).unwrap();
    let formulas = book.worksheet_formula(&name).unwrap();
    let note = find_row(&values, "2-(9)", "全般");
    let first = find_row(&values, "1-(1)", "–");
    for (row, col, text) in [
        (2, 1, "@SUM(A1)"),
        (3, 1, "+81-3-1234-5678"),
        (note, 7, "=1+1"),
        (first, 8, "-x（院内規程で定めていること）"),
    ] {
        assert_eq!(cell(&values, row, col), Data::String(text.into()));
        let formula = formulas.get_value((row, col)).cloned().unwrap_or_default();
        assert_eq!(formula, "", "({row},{col}) became a formula");
    }
    let xml = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!xml.contains("<f>"), "a formula in the sheet");
    let styles = zip_entry(&bytes, "xl/styles.xml");
    assert!(
        styles.contains(r#"quotePrefix="1""#),
        "no quote prefix style"
    );
    // And they read back as the same text.
    let read = read_checklist_answers(&bytes, &framework).unwrap();
    assert_eq!(read[0].answers, answers);
}

/// A workbook shaped like an official one: a notes sheet, then a title, a
/// header on row 3 and the section in a column of its own, written on the
/// first row of each section.
fn official_workbook(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("記入上の注意").unwrap();
    notes
        .write_string(0, 0, "各項目に回答してください")
        .unwrap();
    let sheet = workbook.add_worksheet();
    sheet.set_name("医療機関確認用").unwrap();
    sheet
        .write_string(
            0,
            0,
            "医療機関におけるサイバーセキュリティ対策チェックリスト",
        )
        .unwrap();
    for (col, label) in ["区分", "項番", "確認事項", "対象", "目標年度", "備考"]
        .iter()
        .enumerate()
    {
        sheet.write_string(2, col as u16, *label).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(3 + r as u32, c as u16, *value).unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

fn official_mapping() -> ColumnMapping {
    ColumnMapping {
        sheet: "医療機関確認用".into(),
        form_key: "hospital".into(),
        audience: Audience::Hospital,
        form_title_ja: "医療機関確認用".into(),
        first_row: 4,
        number: "B".into(),
        text: "C".into(),
        section: Some("A".into()),
        scope: Some("d".into()),
        required_fy: Some("E".into()),
        note: Some("F".into()),
        text_en: None,
    }
}

fn official_meta() -> FrameworkMeta {
    FrameworkMeta {
        key: "mhlw-r7".into(),
        title_ja: "医療機関におけるサイバーセキュリティ対策チェックリスト".into(),
        edition_ja: "令和7年度版".into(),
        fiscal_year: Some(2025),
        answer_style: AnswerStyle::YesNoDated,
    }
}

/// Rows from row 4: (区分, 項番, 確認事項, 対象, 目標年度, 備考).
const BAD_ROWS: [[&str; 6]; 11] = [
    [
        "1 体制構築",
        "1-(1)",
        "医療情報システム安全管理責任者を設置している。",
        "–",
        "令和7年度中",
        "",
    ],
    ["", "", "連絡体制図がある。", "", "", ""], // 5: text without a number
    ["", "", "", "", "", ""],
    ["2 医療情報システムの管理・運用", "", "", "", "", ""],
    [
        "",
        "2-(1)",
        "サーバ、端末PC、ネットワーク機器の台帳管理を行っている。",
        "サーバ",
        "R7",
        "",
    ],
    ["", "2-(1)", "", "端末 PC", "2025", ""],
    ["", "2-(1)", "", "ネットワーク", "来年度", ""], // 10: not a year
    [
        "",
        "2-(2)",
        "リモートメンテナンスの接続先を把握している。",
        "サーバー室",
        "2025",
        "",
    ], // 11
    [
        "",
        "1-(1)",
        "医療情報システム安全管理責任者を設置している。",
        "",
        "2025",
        "",
    ], // 12: repeats
    [
        "",
        "2-(3)",
        "バックアップを取得している。",
        "医療情報システム全般",
        "令和7年度",
        "※オフライン",
    ],
    ["", "2-(4)", "", "", "", ""], // 14: number without text
];

#[test]
fn bad_rows_are_listed_and_no_framework_is_made() {
    let bytes = official_workbook(&BAD_ROWS);
    let import = import_framework(&bytes, &official_meta(), &[official_mapping()], false).unwrap();
    assert!(import.framework.is_none());
    let got: Vec<(u32, &str)> = import
        .rejected
        .iter()
        .map(|r| (r.row, r.column.as_str()))
        .collect();
    assert_eq!(
        got,
        [(5, "B"), (10, "E"), (11, "D"), (12, "B"), (14, "C")],
        "{:#?}",
        import.rejected
    );
    for rejection in &import.rejected {
        assert_eq!(rejection.sheet, "医療機関確認用");
    }
    assert!(import.rejected[1].reason.contains("来年度"));
    assert!(import.rejected[2].reason.contains("サーバー室"));
    assert!(
        import.rejected[3].reason.contains("4 行目"),
        "{}",
        import.rejected[3].reason
    );
    // The good rows are in the preview.
    let numbers: Vec<&str> = import.rows.iter().map(|r| r.number.as_str()).collect();
    assert_eq!(numbers, ["1-(1)", "2-(1)", "2-(1)", "2-(3)"]);

    // Skipping the rejected rows gives the framework without them.
    let import = import_framework(&bytes, &official_meta(), &[official_mapping()], true).unwrap();
    assert_eq!(import.rejected.len(), 5);
    let framework = import.framework.expect("framework");
    let form = framework.form("hospital").unwrap();
    let sections: Vec<(&str, &str)> = form
        .sections
        .iter()
        .map(|s| (s.number.as_str(), s.title_ja.as_str()))
        .collect();
    assert_eq!(
        sections,
        [("1", "体制構築"), ("2", "医療情報システムの管理・運用")]
    );
    let items: Vec<&str> = form.items().map(|i| i.number.as_str()).collect();
    assert_eq!(items, ["1-(1)", "2-(1)", "2-(3)"]);
    let split = form.item("2-(1)").unwrap();
    let cells: Vec<(Scope, Option<i32>)> = split
        .cells
        .iter()
        .map(|c| (c.scope, c.required_fy))
        .collect();
    assert_eq!(
        cells,
        [(Scope::Server, Some(2025)), (Scope::TerminalPc, Some(2025))]
    );
    let first = form.item("1-(1)").unwrap();
    assert_eq!(first.cells[0].scope, Scope::Organisation);
    let backup = form.item("2-(3)").unwrap();
    assert_eq!(backup.cells[0].scope, Scope::WholeSystem);
    assert_eq!(backup.note_ja, "※オフライン");
    assert_eq!(backup.provenance, Provenance::Imported);
    assert!(backup.evidence.contains("13"), "{}", backup.evidence);
}

#[test]
fn sections_in_the_number_column_or_on_every_row() {
    // Section titles in the number column, on rows of their own.
    let rows = [
        ["", "1 体制構築", "", "", "", ""],
        [
            "",
            "1-(1)",
            "医療情報システム安全管理責任者を設置している。",
            "",
            "2025",
            "",
        ],
        ["", "2 医療情報システムの管理・運用", "", "", "", ""],
        ["", "2-(1)", "台帳管理を行っている。", "サーバ", "", ""],
        ["", "2-(2)", "バックアップを取得している。", "", "", ""],
    ];
    let mut mapping = official_mapping();
    mapping.section = Some("B".into());
    let import = import_framework(
        &official_workbook(&rows),
        &official_meta(),
        &[mapping],
        false,
    )
    .unwrap();
    assert_eq!(import.rejected, []);
    let framework = import.framework.unwrap();
    let form = &framework.forms[0];
    let shape: Vec<(&str, usize)> = form
        .sections
        .iter()
        .map(|s| (s.number.as_str(), s.items.len()))
        .collect();
    assert_eq!(shape, [("1", 1), ("2", 2)]);

    // The section written on every row of a column of its own.
    let rows = [
        [
            "1 体制構築",
            "1-(1)",
            "医療情報システム安全管理責任者を設置している。",
            "",
            "",
            "",
        ],
        [
            "2 管理・運用",
            "2-(1)",
            "台帳管理を行っている。",
            "",
            "",
            "",
        ],
        [
            "2 管理・運用",
            "2-(2)",
            "バックアップを取得している。",
            "",
            "",
            "",
        ],
    ];
    let import = import_framework(
        &official_workbook(&rows),
        &official_meta(),
        &[official_mapping()],
        false,
    )
    .unwrap();
    let framework = import.framework.unwrap();
    let titles: Vec<(&str, usize)> = framework.forms[0]
        .sections
        .iter()
        .map(|s| (s.title_ja.as_str(), s.items.len()))
        .collect();
    assert_eq!(titles, [("体制構築", 1), ("管理・運用", 2)]);
    assert_eq!(import.rows[2].section, "2 管理・運用");
}

#[test]
fn mapping_mistakes_are_refused_naming_the_part() {
    let bytes = official_workbook(&BAD_ROWS[..2]);
    let meta = official_meta();

    let mut missing = official_mapping();
    missing.sheet = "事業者確認用".into();
    let err = import_framework(&bytes, &meta, &[missing], false).unwrap_err();
    assert!(
        matches!(err, DocumentError::SheetNotFound { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("事業者確認用"), "{message}");
    assert!(
        message.contains("記入上の注意, 医療機関確認用"),
        "{message}"
    );

    let mut column = official_mapping();
    column.required_fy = Some("1D".into());
    let err = import_framework(&bytes, &meta, &[column], false).unwrap_err();
    assert!(
        matches!(&err, DocumentError::InvalidColumn { column, .. } if column == "1D"),
        "{err:?}"
    );
    assert!(err.to_string().contains("required_fy"), "{err}");

    let mut beyond = official_mapping();
    beyond.first_row = 40;
    let err = import_framework(&bytes, &meta, &[beyond], false).unwrap_err();
    assert!(
        matches!(
            err,
            DocumentError::RowBeyondData {
                row: 40,
                last: 5,
                ..
            }
        ),
        "{err:?}"
    );

    // A framework the domain refuses: a key with a space.
    let mut bad_meta = official_meta();
    bad_meta.key = "mhlw r7".into();
    let err = import_framework(&bytes, &bad_meta, &[official_mapping()], true).unwrap_err();
    assert!(
        matches!(&err, DocumentError::InvalidFramework(m) if m.starts_with("key")),
        "{err:?}"
    );
}

/// A workbook shaped like a filled export, written by hand.
fn filled_by_hand(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Sheet1").unwrap();
    sheet.write_string(0, 0, "医療機関確認用").unwrap();
    for (col, label) in [
        "番号",
        "確認項目",
        "対象",
        "回答（はい/いいえ）",
        "確認日",
        "目標日",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, col as u16, *label).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(2 + r as u32, c as u16, *value).unwrap();
            }
        }
    }
    // A real date cell and a serial number in 確認日.
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy/mm/dd");
    let july = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 7, 1).unwrap();
    let row = 2 + rows.len() as u32;
    sheet.write_string(row, 0, "2-(9)").unwrap();
    sheet.write_string(row, 3, "はい").unwrap();
    sheet
        .write_datetime_with_format(row, 4, &july, &format)
        .unwrap();
    workbook.save_to_buffer().unwrap()
}

#[test]
fn hand_filled_answers_are_read_and_bad_rows_listed() {
    let rows = [
        ["", "0 医療情報システムの有無", "", "", "", ""],
        ["0", "", "", "はい", "令和6年6月1日", ""],
        ["1-(1)", "", "", "いいえ", "2024-06-01", "2025/3/31"],
        ["2-(4)", "", "サーバ", "○", "2024/6/1", ""],
        ["2-(4)", "", "端末 PC", "たぶん", "2024/6/1", ""], // row 7: mark
        [
            "2-(4)",
            "",
            "ネットワーク機器",
            "いいえ",
            "2024/13/1",
            "来年",
        ], // row 8: two dates
        ["9-(9)", "", "", "はい", "", ""],                  // row 9: unknown number
        ["2-(4)", "", "", "はい", "", ""],                  // row 10: which scope?
        ["2-(4)", "", "サーバ", "いいえ", "", ""],          // row 11: twice
        ["1-(1)", "", "", "", "2024/6/1", ""],              // no answer: skipped
    ];
    let bytes = filled_by_hand(&rows);
    let read = read_checklist_answers(&bytes, &r6()).unwrap();
    assert_eq!(read.len(), 1);
    let sheet = &read[0];
    assert_eq!(sheet.form_key, "hospital");
    let got: Vec<(u32, &str)> = sheet
        .rejected
        .iter()
        .map(|r| (r.row, r.column.as_str()))
        .collect();
    assert_eq!(
        got,
        [(7, "D"), (8, "E"), (8, "F"), (9, "A"), (10, "C"), (11, "A")],
        "{:#?}",
        sheet.rejected
    );
    assert!(sheet.rejected[0].reason.contains("たぶん"));
    assert!(sheet.rejected[3].reason.contains("9-(9)"));

    let june = Some(date!(2024 - 06 - 01));
    let expected = [
        (
            CellKey::new("0", Scope::Organisation),
            answer(AnswerValue::Yes, june, None, ""),
        ),
        (
            CellKey::new("1-(1)", Scope::Organisation),
            answer(AnswerValue::No, june, Some(date!(2025 - 03 - 31)), ""),
        ),
        (
            CellKey::new("2-(4)", Scope::Server),
            answer(AnswerValue::Yes, june, None, ""),
        ),
        (
            CellKey::new("2-(9)", Scope::WholeSystem),
            answer(AnswerValue::Yes, Some(date!(2024 - 07 - 01)), None, ""),
        ),
    ];
    assert_eq!(sheet.answers, BTreeMap::from(expected));
}

#[test]
fn a_workbook_of_another_framework_is_refused() {
    let bytes = filled_export(None);
    let err = read_checklist_answers(&bytes, &seed()).unwrap_err();
    assert!(matches!(err, DocumentError::UnknownForm { .. }), "{err:?}");
    let err = read_checklist_answers(&official_workbook(&[]), &r6()).unwrap_err();
    assert!(
        matches!(err, DocumentError::NoChecklistSheet { .. }),
        "{err:?}"
    );
}

// Refusals of the file itself -------------------------------------------------

fn refusal(bytes: &[u8]) -> DocumentError {
    let by_import = import_framework(bytes, &official_meta(), &[official_mapping()], false)
        .expect_err("import refuses");
    let by_reader = read_checklist_answers(bytes, &r6()).expect_err("reader refuses");
    assert_eq!(by_import.to_string(), by_reader.to_string());
    by_import
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn not_a_workbook() {
    let err = refusal(b"%PDF-1.7 not a spreadsheet");
    assert!(matches!(err, DocumentError::NotAWorkbook { .. }), "{err:?}");
    assert!(err.to_string().contains("not a zip archive"), "{err}");

    let err = refusal(b"");
    assert!(err.to_string().contains("empty"), "{err}");

    let word = zip_of(&[("word/document.xml", b"<w:document/>")]);
    let err = refusal(&word);
    assert!(err.to_string().contains("xl/workbook.xml"), "{err}");

    // A damaged zip: the start of a real workbook.
    let cut = &filled_export(None)[..400];
    let err = refusal(cut);
    assert!(matches!(err, DocumentError::NotAWorkbook { .. }), "{err:?}");
}

#[test]
fn protected_or_old_workbook() {
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(4096, 0);
    let err = refusal(&ole);
    assert!(
        matches!(err, DocumentError::ProtectedOrLegacyWorkbook),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("password-protected"), "{message}");
    assert!(message.contains(".xls"), "{message}");
}

#[test]
fn too_large_an_upload() {
    let big = vec![b'P'; mamori_documents::checklist::MAX_UPLOAD + 1];
    let err = refusal(&big);
    assert!(
        matches!(err, DocumentError::WorkbookTooLarge { .. }),
        "{err:?}"
    );
}

/// Sets the uncompressed size the central directory declares for `name`.
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let mut at = 0;
    let mut found = false;
    while let Some(pos) = zip[at..]
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .map(|p| p + at)
    {
        let name_len = u16::from_le_bytes([zip[pos + 28], zip[pos + 29]]) as usize;
        if &zip[pos + 46..pos + 46 + name_len] == name.as_bytes() {
            zip[pos + 24..pos + 28].copy_from_slice(&size.to_le_bytes());
            found = true;
        }
        at = pos + 4;
    }
    assert!(found, "{name} not in the central directory");
}

#[test]
fn zip_bomb_declared() {
    // A tiny workbook whose sheet declares 200 MB.
    let mut bytes = blank_export(&r6());
    declare_size(&mut bytes, "xl/worksheets/sheet1.xml", 200 * 1024 * 1024);
    let err = refusal(&bytes);
    assert!(
        matches!(&err, DocumentError::UnpackedTooLarge { part, .. } if part == "xl/worksheets/sheet1.xml"),
        "{err:?}"
    );
    assert!(err.to_string().contains("zip bomb"), "{err}");
}

#[test]
fn zip_bomb_that_lies_about_its_size() {
    // 101 MB of one repeated row compresses to a few hundred kilobytes; the
    // archive declares it small.
    let mut sheet = Vec::with_capacity(102 * 1024 * 1024);
    sheet.extend_from_slice(b"<worksheet><sheetData>");
    let row = b"<row><c t=\"inlineStr\"><is><t>aaaaaaaaaaaaaaaaaaaa</t></is></c></row>";
    while sheet.len() < 101 * 1024 * 1024 {
        sheet.extend_from_slice(row);
    }
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    let mut bytes = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", &sheet),
    ]);
    drop(sheet);
    assert!(bytes.len() < 2 * 1024 * 1024, "{} bytes", bytes.len());
    declare_size(&mut bytes, "xl/worksheets/sheet1.xml", 1000);
    let err = refusal(&bytes);
    // The unpacking stops at the declared size and names the part, before
    // calamine parses anything.
    assert!(
        matches!(
            err,
            DocumentError::UnpackedTooLarge { .. } | DocumentError::NotAWorkbook { .. }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("xl/worksheets/sheet1.xml"), "{message}");
    assert!(message.contains("declared"), "{message}");
}

#[test]
fn too_many_rows() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("医療機関確認用").unwrap();
    sheet.write_string(0, 0, "番号").unwrap();
    sheet.write_string(0, 1, "回答").unwrap();
    sheet.write_string(0, 2, "確認項目").unwrap();
    sheet.write_string(5_000, 0, "1").unwrap();
    // A cell far out must not become a dense range of millions of cells.
    sheet.write_string(1_000_000, 16_000, "x").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let err = refusal(&bytes);
    assert!(
        matches!(&err, DocumentError::TooManyRows { row: 5_001, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("医療機関確認用"), "{err}");
}

#[test]
fn cells_naming_one_long_string_are_refused() {
    // A small file: the 32 KB text is stored once and named by every cell.
    let long = "あ".repeat(11_000);
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("医療機関確認用").unwrap();
    for row in 0..3_500 {
        sheet.write_string(row, 1, &long).unwrap();
    }
    let bytes = workbook.save_to_buffer().unwrap();
    assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
    let err = refusal(&bytes);
    assert!(
        matches!(&err, DocumentError::UnpackedTooLarge { part, .. } if part.contains("医療機関確認用")),
        "{err:?}"
    );
}

// PDF ---------------------------------------------------------------------------

fn pdf_text(pdf: &[u8]) -> String {
    let text = pdf_extract::extract_text_from_mem(pdf).unwrap();
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn pdf_has_the_japanese_items_and_answers() {
    let framework = r6();
    let hospital = hospital_answers();
    let vendor = vendor_answers();
    let sheets = [
        FilledSheet {
            framework: &framework,
            form: framework.form("hospital").unwrap(),
            hospital: "さくら台総合病院",
            respondent: "山田 太郎",
            respondent_role: "システム管理者",
            answers: &hospital,
            confirmed: None,
            generated_on: TODAY,
        },
        FilledSheet {
            framework: &framework,
            form: framework.form("vendor").unwrap(),
            hospital: "さくら台総合病院",
            respondent: "株式会社みなとシステム🙂",
            respondent_role: "事業者",
            answers: &vendor,
            confirmed: None,
            generated_on: TODAY,
        },
    ];
    let pdf = checklist_pdf(&sheets).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
    assert_eq!(pages, 2, "a page per sheet");
    let text = pdf_text(&pdf);
    for expected in [
        "医療機関におけるサイバーセキュリティ対策チェックリスト",
        "医療機関確認用",
        "さくら台総合病院",
        "アクセス利用権限を設定している。",
        "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。",
        "理解が困難であった部分",
        "「アクセス利用権限」の範囲が分からなかった",
        "はい",
        "いいえ",
        "該当なし",
        "2024/06/01",
        "2025/03/31",
        "1/2",
        "2/2",
        // A character the font lacks prints as 〓.
        "株式会社みなとシステム〓",
    ] {
        assert!(text.contains(expected), "{expected} not in the PDF text");
    }
}

#[test]
fn long_pdf_tables_continue_on_numbered_pages() {
    let mut toml = String::from(
        "key = \"long\"\ntitle_ja = \"長いチェックリスト\"\nedition_ja = \"試験版\"\nanswer_style = \"yes-no-dated\"\n\
         [[forms]]\nkey = \"hospital\"\naudience = \"hospital\"\ntitle_ja = \"医療機関確認用\"\n",
    );
    for s in 1..=6 {
        toml.push_str(&format!(
            "[[forms.sections]]\nnumber = \"{s}\"\ntitle_ja = \"区分{s}\"\n"
        ));
        for i in 1..=15 {
            toml.push_str(&format!(
                "[[forms.sections.items]]\nnumber = \"{s}-({i})\"\ntext_ja = \"{}\"\nprovenance = \"programme\"\n",
                "医療情報システムの利用者ごとに、アクセス権限を定期的に見直している。".repeat(1 + i % 3)
            ));
        }
    }
    // One item longer than a page.
    toml.push_str(&format!(
        "[[forms.sections.items]]\nnumber = \"7-(1)\"\ntext_ja = \"{}終わり\"\nprovenance = \"programme\"\n",
        "とても長い確認項目です。".repeat(160)
    ));
    let framework = Framework::from_toml(&toml).unwrap();
    let mut answers = BTreeMap::new();
    for item in framework.forms[0].items() {
        answers.insert(
            CellKey::new(item.number.clone(), Scope::WholeSystem),
            answer(AnswerValue::Yes, None, None, ""),
        );
    }
    let sheets = [FilledSheet {
        framework: &framework,
        form: &framework.forms[0],
        hospital: "さくら台総合病院",
        respondent: "山田 太郎",
        respondent_role: "",
        answers: &answers,
        confirmed: None,
        generated_on: TODAY,
    }];
    let pdf = checklist_pdf(&sheets).unwrap();
    let pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
    assert!(pages > 3, "{pages} pages");
    let text = pdf_text(&pdf);
    assert!(text.contains(&format!("{pages}/{pages}")));
    assert!(text.contains("6-(15)"));
    assert!(
        text.contains("終わり"),
        "the long item is printed to its end"
    );
    // The header repeats on every page.
    assert_eq!(text.matches("理解が困難であった部分").count(), pages);
}
