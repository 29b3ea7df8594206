//! The report as one PDF: portrait A4 for the cover, the contents and the
//! findings; landscape A4 for the deliverables' tables (most have many
//! columns), in smaller type the more columns a table has; the diagrams on
//! pages of their own, as large as they need.

use mamori_domain::deliverable::{
    ContentTable, DeliverableKind, ReportContent, ReportDeliverable, cell_text,
};

use super::{
    affected_text, caption, cover_lines, heading, recipient_line, release_text, version_text, words,
};
use crate::DocumentError;
use crate::diagram::{network_page, org_page};
use crate::pdf::{
    Anchor, BLOCK_SIZE, CELL_SIZE, FOOTER_TEXT_SIZE, Flow, Frame, Ink, TableRow, embedded_font,
};

const A4_SHORT: f32 = 595.28;
const A4_LONG: f32 = 841.89;

const PORTRAIT: Frame = Frame {
    width: A4_SHORT,
    height: A4_LONG,
    margin_x: 56.0,
    top: 66.0,
    bottom: 54.0,
};

const LANDSCAPE: Frame = Frame {
    width: A4_LONG,
    height: A4_SHORT,
    margin_x: 36.0,
    top: 58.0,
    bottom: 44.0,
};

const HEADER_BASELINE: f32 = 30.0;
const HEADER_SIZE: f32 = 8.5;
const FOOTER_FROM_BOTTOM: f32 = 22.0;
const SECTION_SIZE: f32 = 14.0;
/// Free band above a diagram for the header and the deliverable's heading.
const DIAGRAM_RESERVE: f32 = 40.0;
const DIAGRAM_HEADING_BASELINE: f32 = 54.0;
const INK: (u8, u8, u8) = (0, 0, 0);
const CONFIDENTIAL_RED: (u8, u8, u8) = (0xb7, 0x1c, 0x1c);

/// The report as one PDF in `language` (`ja` unless `en`).
pub fn report_pdf(report: &ReportContent, language: &str) -> Result<Vec<u8>, DocumentError> {
    let w = words(language);
    let (font, face) = embedded_font()?;
    let mut flow = Flow::new(&face);

    cover(&mut flow, report, language);

    // The contents page is laid out now and filled in at the end, when the
    // pages the sections start on are known.
    flow.start_page(PORTRAIT);
    let contents_page = flow.page_count() - 1;
    flow.paragraph(w.contents, SECTION_SIZE + 2.0, true, Anchor::Start);
    flow.gap(14.0);
    let contents_top = flow.y();
    let mut entries: Vec<(String, usize)> = Vec::new();

    flow.start_page(PORTRAIT);
    entries.push((w.findings.to_owned(), flow.page_count() - 1));
    findings(&mut flow, report, language);

    for deliverable in &report.deliverables {
        let start = section(&mut flow, deliverable, language);
        entries.push((heading(deliverable.content.kind, language), start));
    }

    // Contents: an entry a line, its page number at the right.
    let line = 24.0;
    for (i, (text, page)) in entries.iter().enumerate() {
        let baseline = contents_top + line * i as f32 + line * 0.7;
        let right = PORTRAIT.width - PORTRAIT.margin_x;
        flow.stamp(
            contents_page,
            text_ink(
                PORTRAIT.margin_x,
                baseline,
                11.0,
                false,
                Anchor::Start,
                PORTRAIT.content_width() - 40.0,
                text,
            ),
        );
        flow.stamp(
            contents_page,
            text_ink(
                right,
                baseline,
                11.0,
                false,
                Anchor::End,
                0.0,
                &(page + 1).to_string(),
            ),
        );
    }

    // Every page: 機密 and the recipient at the head, n / m at the foot.
    let total = flow.page_count();
    let recipient = recipient_line(report, language);
    for index in 0..total {
        let Some((width, height)) = flow.page_size(index) else {
            continue;
        };
        let margin = if width > height {
            LANDSCAPE.margin_x
        } else {
            PORTRAIT.margin_x
        };
        let mut confidential = text_ink(
            margin,
            HEADER_BASELINE,
            HEADER_SIZE + 1.0,
            true,
            Anchor::Start,
            0.0,
            w.confidential,
        );
        if let Ink::Text { color, .. } = &mut confidential {
            *color = CONFIDENTIAL_RED;
        }
        flow.stamp(index, confidential);
        flow.stamp(
            index,
            text_ink(
                width - margin,
                HEADER_BASELINE,
                HEADER_SIZE,
                false,
                Anchor::End,
                width * 0.6,
                &recipient,
            ),
        );
        flow.stamp(
            index,
            Ink::Path {
                points: vec![
                    (margin, HEADER_BASELINE + 5.0),
                    (width - margin, HEADER_BASELINE + 5.0),
                ],
                pen: crate::pdf::Pen {
                    color: (0x90, 0x90, 0x90),
                    width: 0.5,
                    dash: None,
                },
            },
        );
        flow.stamp(
            index,
            text_ink(
                width / 2.0,
                height - FOOTER_FROM_BOTTOM,
                FOOTER_TEXT_SIZE,
                false,
                Anchor::Middle,
                0.0,
                &format!("{} / {}", index + 1, total),
            ),
        );
    }

    let title = format!("{} {}", w.title, report.hospital);
    flow.write(font, &title, if language == "en" { "en" } else { "ja" })
}

fn text_ink(
    x: f32,
    baseline: f32,
    size: f32,
    bold: bool,
    anchor: Anchor,
    max_width: f32,
    text: &str,
) -> Ink {
    Ink::Text {
        x,
        baseline,
        size,
        bold,
        color: INK,
        anchor,
        max_width,
        text: text.to_owned(),
    }
}

fn cover(flow: &mut Flow<'_>, report: &ReportContent, language: &str) {
    let w = words(language);
    flow.start_page(PORTRAIT);
    flow.gap(150.0);
    flow.paragraph(w.title, 20.0, true, Anchor::Middle);
    flow.gap(36.0);
    flow.paragraph(&report.hospital, 17.0, true, Anchor::Middle);
    flow.gap(8.0);
    flow.paragraph(
        &release_text(report.release, language),
        12.0,
        false,
        Anchor::Middle,
    );
    flow.gap(150.0);
    let separator = if language == "en" { ": " } else { "：" };
    for (label, value) in cover_lines(report, language) {
        if value.trim().is_empty() {
            continue;
        }
        flow.paragraph(
            &format!("{label}{separator}{value}"),
            11.0,
            false,
            Anchor::Middle,
        );
        flow.gap(4.0);
    }
}

fn findings(flow: &mut Flow<'_>, report: &ReportContent, language: &str) {
    let w = words(language);
    flow.paragraph(w.findings, SECTION_SIZE, true, Anchor::Start);
    flow.gap(8.0);
    if report.findings.is_empty() {
        flow.paragraph(w.no_findings, 10.5, false, Anchor::Start);
        return;
    }
    let shares = [5.0, 7.0, 38.0, 18.0, 32.0];
    let columns: Vec<(String, f32)> = w
        .finding_columns
        .iter()
        .zip(shares)
        .map(|(label, share)| ((*label).to_owned(), share))
        .collect();
    let rows: Vec<TableRow> = report
        .findings
        .iter()
        .map(|f| {
            let text = if f.detail.trim().is_empty() {
                f.title.clone()
            } else {
                format!("{}\n{}", f.title, f.detail.trim())
            };
            TableRow::Cells(vec![
                f.number.to_string(),
                f.severity.label(language).to_owned(),
                text,
                affected_text(f, language),
                f.recommendation.clone(),
            ])
        })
        .collect();
    flow.table(&columns, &rows, CELL_SIZE);
}

/// One deliverable from a new page; returns the index of that page.
fn section(flow: &mut Flow<'_>, deliverable: &ReportDeliverable, language: &str) -> usize {
    let content = &deliverable.content;
    let title = heading(content.kind, language);
    let version = version_text(deliverable.version, language);
    let drawing = match content.kind {
        DeliverableKind::Network => content
            .network
            .as_ref()
            .map(|v| network_page(v, language, DIAGRAM_RESERVE)),
        DeliverableKind::Structure => content
            .structure
            .as_ref()
            .map(|v| org_page(v, language, DIAGRAM_RESERVE)),
        _ => None,
    };
    let start;
    if let Some((width, height, inks)) = drawing {
        flow.drawing(width, height, inks);
        start = flow.page_count() - 1;
        let margin = LANDSCAPE.margin_x;
        flow.stamp(
            start,
            text_ink(
                margin,
                DIAGRAM_HEADING_BASELINE,
                SECTION_SIZE - 1.0,
                true,
                Anchor::Start,
                width - 2.0 * margin - 80.0,
                &title,
            ),
        );
        flow.stamp(
            start,
            text_ink(
                width - margin,
                DIAGRAM_HEADING_BASELINE,
                BLOCK_SIZE,
                false,
                Anchor::End,
                0.0,
                &version,
            ),
        );
        if content.tables.is_empty() {
            return start;
        }
        flow.start_page(LANDSCAPE);
    } else {
        flow.start_page(LANDSCAPE);
        start = flow.page_count() - 1;
        flow.paragraph(&title, SECTION_SIZE, true, Anchor::Start);
        flow.paragraph(&version, BLOCK_SIZE, false, Anchor::Start);
        flow.gap(6.0);
    }
    for (i, table) in content.tables.iter().enumerate() {
        if i > 0 {
            flow.gap(12.0);
        }
        content_table(flow, table, language);
    }
    start
}

/// A caption, then the table (or `なし`).
fn content_table(flow: &mut Flow<'_>, table: &ContentTable, language: &str) {
    let size = cell_size(table.columns.len());
    // The caption stays with the header and a first row.
    flow.keep(BLOCK_SIZE * 1.6 + size * 1.45 * 4.0 + 12.0);
    flow.paragraph(
        caption(table, language),
        BLOCK_SIZE + 1.0,
        true,
        Anchor::Start,
    );
    flow.gap(2.0);
    if table.rows.is_empty() {
        flow.paragraph(words(language).none, BLOCK_SIZE, false, Anchor::Start);
        return;
    }
    let rows: Vec<TableRow> = table
        .rows
        .iter()
        .map(|row| {
            TableRow::Cells(
                (0..table.columns.len())
                    .map(|i| {
                        row.cells
                            .get(i)
                            .map(|c| cell_text(c, language).into_owned())
                            .unwrap_or_default()
                    })
                    .collect(),
            )
        })
        .collect();
    let headers: Vec<String> = table
        .columns
        .iter()
        .map(|c| c.label(language).to_owned())
        .collect();
    let shares = column_shares(&headers, &rows);
    let columns: Vec<(String, f32)> = headers.into_iter().zip(shares).collect();
    flow.table(&columns, &rows, size);
}

/// Smaller type for wider tables, so twenty columns still fit a page.
fn cell_size(columns: usize) -> f32 {
    match columns {
        0..=6 => 9.0,
        7..=9 => 8.0,
        10..=13 => 7.0,
        _ => 6.0,
    }
}

/// Rough width of a line in em: Latin about half a CJK character.
fn em_width(text: &str) -> f32 {
    text.lines()
        .map(|l| {
            l.chars()
                .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
                .sum::<f32>()
        })
        .fold(0.0, f32::max)
}

/// Each column's share of the width, from what it holds: the header (a
/// short header needs not wrap) and the average and longest cell, bounded
/// so a long note column does not squeeze the others to nothing.
fn column_shares(headers: &[String], rows: &[TableRow]) -> Vec<f32> {
    headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let mut total = 0.0;
            let mut longest: f32 = 0.0;
            let mut count = 0.0;
            for row in rows {
                if let TableRow::Cells(cells) = row {
                    let width = cells.get(i).map_or(0.0, |c| em_width(c));
                    total += width;
                    longest = longest.max(width);
                    count += 1.0;
                }
            }
            let average = if count > 0.0 { total / count } else { 0.0 };
            let content = (average + longest.min(36.0)) / 2.0;
            content.max(em_width(header).min(8.0)).clamp(2.5, 36.0)
        })
        .collect()
}
