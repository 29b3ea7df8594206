//! Returning and destroying a hospital's information on its request (資料3
//! 第5条, 資料5): what the archive holds, the digest that ties an erasure to
//! the archive the hospital received, and what is deleted or kept.
//!
//! The rule: everything the hospital provided or the survey found about its
//! security is returned and then deleted. The programme's own records of
//! the engagement (its states, the signed pledge and NDA, estimates, orders,
//! payments, labour hours, letters) are returned too but kept: they account
//! for public money and prove the promise was made. The audit log is kept
//! whole (its hash chain is the proof of who saw what).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What happens to a table's rows after the archive is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AfterReturn {
    /// The hospital's information: deleted.
    Deleted,
    /// The programme's record of the engagement: kept.
    Kept,
}

/// One table's rows that concern the hospital, each row a JSON object of
/// column → value (text columns holding JSON are embedded as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedTable {
    pub name: String,
    pub after_return: AfterReturn,
    pub rows: Vec<serde_json::Value>,
}

/// A stored file of the hospital, its bytes and the row that holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedFile {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub sha256: String,
    /// The table whose row refers to this file (ledger_photos, report_files …).
    pub held_by: String,
    pub after_return: AfterReturn,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// Everything about one hospital, read in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveContents {
    pub hospital_id: i64,
    pub hospital_name: String,
    pub tables: Vec<ArchivedTable>,
    pub files: Vec<ArchivedFile>,
}

/// Rows and files per fate, for the manifest, the audit record and the screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnSummary {
    /// Rows per table that are (or were) deleted.
    pub deleted_rows: BTreeMap<String, usize>,
    /// Rows per table that are kept.
    pub kept_rows: BTreeMap<String, usize>,
    pub deleted_files: usize,
    pub deleted_file_bytes: u64,
    pub kept_files: usize,
}

impl ReturnSummary {
    pub fn deleted_row_total(&self) -> usize {
        self.deleted_rows.values().sum()
    }
    pub fn kept_row_total(&self) -> usize {
        self.kept_rows.values().sum()
    }
}

impl ArchiveContents {
    /// A digest of what is to be deleted (rows and file checksums, not the
    /// zip's bytes, which carry a time): the same data always gives the
    /// same digest, so an erasure can prove it deletes exactly what was
    /// handed over. Kept records (labour, payments …) may change meanwhile.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.hospital_id.to_be_bytes());
        let deleted = |fate: &AfterReturn| *fate == AfterReturn::Deleted;
        for table in self.tables.iter().filter(|t| deleted(&t.after_return)) {
            hasher.update(table.name.as_bytes());
            hasher.update([0]);
            for row in &table.rows {
                // serde_json keeps object keys sorted (no preserve_order),
                // so a row always serialises the same way.
                hasher.update(row.to_string().as_bytes());
                hasher.update([b'\n']);
            }
        }
        for file in self.files.iter().filter(|f| deleted(&f.after_return)) {
            hasher.update(file.id.to_be_bytes());
            hasher.update(file.sha256.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    pub fn summary(&self) -> ReturnSummary {
        let mut summary = ReturnSummary::default();
        for table in &self.tables {
            let counts = match table.after_return {
                AfterReturn::Deleted => &mut summary.deleted_rows,
                AfterReturn::Kept => &mut summary.kept_rows,
            };
            *counts.entry(table.name.clone()).or_default() += table.rows.len();
        }
        for file in &self.files {
            match file.after_return {
                AfterReturn::Deleted => {
                    summary.deleted_files += 1;
                    summary.deleted_file_bytes += file.bytes.len() as u64;
                }
                AfterReturn::Kept => summary.kept_files += 1,
            }
        }
        summary
    }
}

/// The erasure must be confirmed by typing the hospital's name exactly
/// (surrounding spaces aside): a slip of the mouse cannot destroy a
/// hospital's survey.
pub fn confirms_hospital(name: &str, typed: &str) -> bool {
    !name.trim().is_empty() && name.trim() == typed.trim()
}

/// A file name safe inside the archive: no directories, no control
/// characters, never empty.
pub fn archive_file_name(id: i64, name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let cleaned: String = cleaned.chars().take(120).collect();
    if cleaned.is_empty() {
        format!("{id}")
    } else {
        format!("{id}-{cleaned}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contents(value: &str) -> ArchiveContents {
        ArchiveContents {
            hospital_id: 7,
            hospital_name: "白浜病院".into(),
            tables: vec![
                ArchivedTable {
                    name: "ledger_records".into(),
                    after_return: AfterReturn::Deleted,
                    rows: vec![json!({"id": 1, "body": {"name": value}})],
                },
                ArchivedTable {
                    name: "orders".into(),
                    after_return: AfterReturn::Kept,
                    rows: vec![json!({"id": 3}), json!({"id": 4})],
                },
            ],
            files: vec![ArchivedFile {
                id: 9,
                name: "photo.jpg".into(),
                content_type: "image/jpeg".into(),
                sha256: "ab".into(),
                held_by: "ledger_photos".into(),
                after_return: AfterReturn::Deleted,
                bytes: vec![1, 2, 3],
            }],
        }
    }

    #[test]
    fn the_digest_follows_the_data_and_nothing_else() {
        assert_eq!(contents("a").digest(), contents("a").digest());
        assert_ne!(contents("a").digest(), contents("b").digest());
        let mut other_file = contents("a");
        other_file.files[0].sha256 = "cd".into();
        assert_ne!(contents("a").digest(), other_file.digest());
        let mut kept_changed = contents("a");
        kept_changed.tables[1].rows.push(json!({"id": 5}));
        assert_eq!(contents("a").digest(), kept_changed.digest());
        let mut other_hospital = contents("a");
        other_hospital.hospital_id = 8;
        assert_ne!(contents("a").digest(), other_hospital.digest());
    }

    #[test]
    fn the_summary_counts_rows_and_files_by_fate() {
        let summary = contents("a").summary();
        assert_eq!(summary.deleted_rows["ledger_records"], 1);
        assert_eq!(summary.kept_rows["orders"], 2);
        assert_eq!(summary.deleted_row_total(), 1);
        assert_eq!(summary.kept_row_total(), 2);
        assert_eq!(summary.deleted_files, 1);
        assert_eq!(summary.deleted_file_bytes, 3);
        assert_eq!(summary.kept_files, 0);
    }

    #[test]
    fn only_the_exact_name_confirms() {
        assert!(confirms_hospital("白浜病院", " 白浜病院 "));
        assert!(!confirms_hospital("白浜病院", "白浜"));
        assert!(!confirms_hospital("", ""));
    }

    #[test]
    fn archive_names_cannot_leave_their_folder() {
        assert_eq!(archive_file_name(3, "../../etc/passwd"), "3-_.._etc_passwd");
        assert_eq!(archive_file_name(4, "a\\b\nc.pdf"), "4-a_b_c.pdf");
        assert_eq!(archive_file_name(5, ".."), "5");
        assert_eq!(archive_file_name(6, "台帳.xlsx"), "6-台帳.xlsx");
    }
}
