//! Mamori's documents: the papers a survey programme sends and keeps.
//!
//! Everything here is a pure function (bytes or strings in, bytes or strings
//! out): no database, no network, no files read at run time. The Japanese font
//! is compiled into the binary so a server without fonts still writes the same
//! PDF.
//!
//! - [`letters`]: the request letter, the confidentiality pledge and the
//!   company NDA as secretariat-editable templates with merge fields.
//! - [`pdf`]: an A4 Japanese PDF of a letter, with searchable text.
//! - [`xlsx`]: the payment list (謝金・立替費用) as an Excel workbook.
//! - [`checklist`]: filled checklists as a workbook and a PDF, answers read
//!   back from a filled workbook, and a new edition imported from the
//!   official workbook with a column mapping.
//! - [`ledger_sheets`]: a hospital's ledger as a workbook and CSV, and ledger
//!   rows read from CSV or Excel files for import.
//! - [`diagram`]: the ledger's network overview and management structure
//!   chart as SVG, PDF, draw.io and Mermaid.
//! - [`report`]: the report package (cover, findings, ① to ⑦) as one PDF,
//!   a workbook and the diagrams' draw.io files.
//! - [`labour`]: the labour-hour sheet (資料6), the roll-up across
//!   engagements as a workbook and CSV, and the burn-up chart as SVG.
//! - [`svg`]: the engagement timeline against programme milestones.
//! - [`dates`]: Japanese date and fiscal-year labels for merge fields.

pub mod checklist;
pub mod data_return;
pub mod dates;
pub mod diagram;
mod error;
pub mod labour;
pub mod ledger_sheets;
pub mod letters;
pub mod pdf;
pub mod report;
mod sheet_text;
pub mod statistics;
pub mod svg;
pub mod xlsx;

pub use error::DocumentError;
pub use sheet_text::csv_text;
