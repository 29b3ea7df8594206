//! The report package of one hospital (issue 6): the released
//! [`ReportContent`] as one PDF (cover, contents, the summary of findings
//! and the seven deliverables ① to ⑦ with their tables and diagrams), as a
//! workbook (a cover sheet, the findings and a sheet per deliverable), and
//! the diagrams of ⑥ and ⑦ as editable draw.io files.
//!
//! Japanese unless the language is `en`. Every PDF page carries 機密 and the
//! recipient at its head and `n / m` at its foot; every sheet carries them
//! in its first row and in its print header.

mod pdf;
mod workbook;

pub use pdf::report_pdf;
pub use workbook::{SheetRows, report_workbook, report_workbook_tables};

use mamori_domain::deliverable::{ContentTable, DeliverableKind, Finding, ReportContent};
use time::Date;

use crate::dates::japanese_date;
use crate::diagram::{network_drawio, org_drawio};

/// The draw.io files of ⑥ and ⑦ (file name, XML), for the diagrams the
/// report holds; a deliverable without its view gives no file.
pub fn report_drawio(report: &ReportContent, language: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for deliverable in &report.deliverables {
        let content = &deliverable.content;
        match content.kind {
            DeliverableKind::Network => {
                if let Some(view) = &content.network {
                    files.push((
                        "06_network.drawio".to_owned(),
                        network_drawio(view, language),
                    ));
                }
            }
            DeliverableKind::Structure => {
                if let Some(view) = &content.structure {
                    files.push(("07_structure.drawio".to_owned(), org_drawio(view, language)));
                }
            }
            _ => {}
        }
    }
    files
}

// Words ----------------------------------------------------------------------

/// The report's fixed words in one language.
struct Words {
    title: &'static str,
    confidential: &'static str,
    recipient: &'static str,
    contents: &'static str,
    findings: &'static str,
    no_findings: &'static str,
    none: &'static str,
    hospital: &'static str,
    company: &'static str,
    programme: &'static str,
    release: &'static str,
    date: &'static str,
    version: &'static str,
    cover_sheet: &'static str,
    findings_sheet: &'static str,
    finding_columns: [&'static str; 5],
    detail: &'static str,
    sheets: [&'static str; 7],
}

const JA: Words = Words {
    title: "医療機関サイバーセキュリティ調査 報告書",
    confidential: "機密",
    recipient: "提出先",
    contents: "目次",
    findings: "指摘事項",
    no_findings: "採用された指摘事項はありません。",
    none: "なし",
    hospital: "医療機関",
    company: "作成",
    programme: "事業",
    release: "版",
    date: "発行日",
    version: "版数",
    cover_sheet: "表紙",
    findings_sheet: "指摘事項",
    finding_columns: ["番号", "重大度", "指摘事項", "対象", "推奨対策"],
    detail: "詳細",
    sheets: [
        "①経営層",
        "②システム管理者",
        "③利用者",
        "④バックアップ",
        "⑤外部接続",
        "⑥ネットワーク",
        "⑦管理体制",
    ],
};

const EN: Words = Words {
    title: "Hospital cybersecurity survey report",
    confidential: "CONFIDENTIAL",
    recipient: "Recipient",
    contents: "Contents",
    findings: "Summary of findings",
    no_findings: "No findings were accepted.",
    none: "none",
    hospital: "Hospital",
    company: "Prepared by",
    programme: "Programme",
    release: "Release",
    date: "Date",
    version: "Version",
    cover_sheet: "Cover",
    findings_sheet: "Findings",
    finding_columns: [
        "No.",
        "Severity",
        "Finding",
        "Affected",
        "Recommended action",
    ],
    detail: "Detail",
    sheets: [
        "1 Executives",
        "2 Administrators",
        "3 Users",
        "4 Backups",
        "5 External connections",
        "6 Network",
        "7 Structure",
    ],
};

fn words(language: &str) -> &'static Words {
    if language == "en" { &EN } else { &JA }
}

fn is_en(language: &str) -> bool {
    language == "en"
}

/// `提出先：…` / `Recipient: …`.
fn recipient_line(report: &ReportContent, language: &str) -> String {
    let w = words(language);
    if is_en(language) {
        format!("{}: {}", w.recipient, report.recipient)
    } else {
        format!("{}：{}", w.recipient, report.recipient)
    }
}

/// `第2版` / `Release 2`.
fn release_text(release: u32, language: &str) -> String {
    if is_en(language) {
        format!("Release {release}")
    } else {
        format!("第{release}版")
    }
}

/// `2025年2月28日` / `28 February 2025`.
fn date_text(date: Date, language: &str) -> String {
    if is_en(language) {
        format!("{} {} {}", date.day(), date.month(), date.year())
    } else {
        japanese_date(date)
    }
}

/// `①チェックリスト…` / `① Checklist results …`: how a deliverable is
/// headed in the PDF and the table of contents.
fn heading(kind: DeliverableKind, language: &str) -> String {
    if is_en(language) {
        format!("{} {}", kind.mark(), kind.en())
    } else {
        format!("{}{}", kind.mark(), kind.ja())
    }
}

/// `版数：2` / `Version 2`.
fn version_text(version: u32, language: &str) -> String {
    let w = words(language);
    if is_en(language) {
        format!("{} {version}", w.version)
    } else {
        format!("{}：{version}", w.version)
    }
}

/// The cover's label and value pairs.
fn cover_lines(report: &ReportContent, language: &str) -> Vec<(&'static str, String)> {
    let w = words(language);
    vec![
        (w.hospital, report.hospital.clone()),
        (w.recipient, report.recipient.clone()),
        (w.company, report.company.clone()),
        (w.programme, report.programme.clone()),
        (w.release, release_text(report.release, language)),
        (w.date, date_text(report.released_on, language)),
    ]
}

/// `資産 SV-01`, a line each.
fn affected_text(finding: &Finding, language: &str) -> String {
    finding
        .affected
        .iter()
        .map(|r| format!("{} {}", r.kind.label(language), r.key))
        .collect::<Vec<_>>()
        .join("\n")
}

fn caption<'a>(table: &'a ContentTable, language: &str) -> &'a str {
    if is_en(language) && !table.caption_en.is_empty() {
        &table.caption_en
    } else {
        &table.caption_ja
    }
}

#[cfg(test)]
mod tests;
