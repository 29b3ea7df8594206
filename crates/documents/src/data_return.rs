//! The archive handed back to a hospital before its information is
//! destroyed (資料3 第5条): one zip a person can open without Mamori.
//!
//! - `README.txt`: what this is, in Japanese and English.
//! - `manifest.json`: the hospital, when, the digest the erasure will
//!   name, every table with its row count and fate, every file with its
//!   place in the archive and SHA-256.
//! - `data/deleted/<table>.json`, `data/kept/<table>.json`: the rows.
//! - `files/<table>/<id>-<name>`: the stored files; released reports under
//!   `reports/`.

use crate::DocumentError;
use mamori_domain::data_return::{AfterReturn, ArchiveContents, archive_file_name};
use serde::Serialize;
use std::io::{Cursor, Write};
use time::OffsetDateTime;
use zip::write::SimpleFileOptions;

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    hospital_id: i64,
    hospital_name: &'a str,
    made_at: String,
    digest: String,
    tables: Vec<TableEntry<'a>>,
    files: Vec<FileEntry<'a>>,
}

#[derive(Serialize)]
struct TableEntry<'a> {
    name: &'a str,
    after_return: AfterReturn,
    rows: usize,
    path: String,
}

#[derive(Serialize)]
struct FileEntry<'a> {
    id: i64,
    name: &'a str,
    content_type: &'a str,
    sha256: &'a str,
    size_bytes: usize,
    held_by: &'a str,
    after_return: AfterReturn,
    path: String,
}

fn fate_folder(fate: AfterReturn) -> &'static str {
    match fate {
        AfterReturn::Deleted => "deleted",
        AfterReturn::Kept => "kept",
    }
}

/// Where a file goes inside the archive.
fn file_path(held_by: &str, id: i64, name: &str) -> String {
    let name = archive_file_name(id, name);
    if held_by == "report_files" {
        format!("reports/{name}")
    } else {
        format!("files/{held_by}/{name}")
    }
}

fn readme(contents: &ArchiveContents, made_at: &str, digest: &str) -> String {
    let summary = contents.summary();
    format!(
        "{name} — 情報の返却用アーカイブ / Archive of returned information\r\n\
         作成日時 / Made at: {made_at} (UTC)\r\n\
         ダイジェスト / Digest: {digest}\r\n\r\n\
         このアーカイブは、調査のために貴院からお預かりした情報と、調査で作成した資料のすべてです\r\n\
         （誓約書 第5条に基づく返却）。この後、data/deleted と reports、files 内の\r\n\
         削除対象（manifest.json の after_return = deleted）は Mamori から削除されます：\r\n\
         {deleted_rows} 行、ファイル {deleted_files} 件。\r\n\
         data/kept は事業の記録（契約・誓約書・見積・発注・支払・工数・文書送付）で、\r\n\
         公費の説明責任のため保存されます：{kept_rows} 行、ファイル {kept_files} 件。\r\n\
         監査ログは改ざん検知のため削除されません。\r\n\r\n\
         This archive holds everything the hospital lent the survey and everything the\r\n\
         survey made about it (returned under article 5 of the pledge). Afterwards the\r\n\
         rows and files marked after_return = deleted in manifest.json are deleted from\r\n\
         Mamori: {deleted_rows} rows, {deleted_files} files. data/kept is the programme's\r\n\
         record of the engagement (contracts, pledge, estimates, orders, payments, hours,\r\n\
         letters), kept to account for public money: {kept_rows} rows, {kept_files} files.\r\n\
         The audit log is kept whole so that tampering stays detectable.\r\n\r\n\
         Rows are JSON objects (column → value); text that held JSON is embedded as JSON.\r\n\
         Times ending in _at are milliseconds since 1970-01-01 UTC.\r\n",
        name = contents.hospital_name,
        deleted_rows = summary.deleted_row_total(),
        deleted_files = summary.deleted_files,
        kept_rows = summary.kept_row_total(),
        kept_files = summary.kept_files,
    )
}

fn options(made_at: OffsetDateTime) -> SimpleFileOptions {
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    match zip::DateTime::from_date_and_time(
        u16::try_from(made_at.year()).unwrap_or(1980),
        u8::from(made_at.month()),
        made_at.day(),
        made_at.hour(),
        made_at.minute(),
        made_at.second(),
    ) {
        Ok(stamp) => options.last_modified_time(stamp),
        Err(_) => options,
    }
}

fn zip_error(error: impl std::fmt::Display) -> DocumentError {
    DocumentError::Archive(error.to_string())
}

/// The archive as zip bytes.
pub fn hospital_archive(
    contents: &ArchiveContents,
    made_at: OffsetDateTime,
) -> Result<Vec<u8>, DocumentError> {
    let digest = contents.digest();
    let made_at_text = made_at
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(zip_error)?;
    let options = options(made_at);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut tables = Vec::with_capacity(contents.tables.len());
    for table in &contents.tables {
        let path = format!(
            "data/{}/{}.json",
            fate_folder(table.after_return),
            table.name
        );
        let json = serde_json::to_vec_pretty(&table.rows).map_err(zip_error)?;
        zip.start_file(path.as_str(), options).map_err(zip_error)?;
        zip.write_all(&json).map_err(zip_error)?;
        tables.push(TableEntry {
            name: &table.name,
            after_return: table.after_return,
            rows: table.rows.len(),
            path,
        });
    }
    let mut files = Vec::with_capacity(contents.files.len());
    for file in &contents.files {
        let path = file_path(&file.held_by, file.id, &file.name);
        zip.start_file(path.as_str(), options).map_err(zip_error)?;
        zip.write_all(&file.bytes).map_err(zip_error)?;
        files.push(FileEntry {
            id: file.id,
            name: &file.name,
            content_type: &file.content_type,
            sha256: &file.sha256,
            size_bytes: file.bytes.len(),
            held_by: &file.held_by,
            after_return: file.after_return,
            path,
        });
    }
    let manifest = Manifest {
        format: "mamori-hospital-archive/1",
        hospital_id: contents.hospital_id,
        hospital_name: &contents.hospital_name,
        made_at: made_at_text.clone(),
        digest: digest.clone(),
        tables,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(zip_error)?;
    zip.start_file("manifest.json", options)
        .map_err(zip_error)?;
    zip.write_all(&json).map_err(zip_error)?;
    zip.start_file("README.txt", options).map_err(zip_error)?;
    zip.write_all(readme(contents, &made_at_text, &digest).as_bytes())
        .map_err(zip_error)?;
    let cursor = zip.finish().map_err(zip_error)?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::data_return::{ArchivedFile, ArchivedTable};
    use serde_json::json;
    use std::io::Read;

    fn contents() -> ArchiveContents {
        ArchiveContents {
            hospital_id: 7,
            hospital_name: "白浜病院".into(),
            tables: vec![
                ArchivedTable {
                    name: "ledger_records".into(),
                    after_return: AfterReturn::Deleted,
                    rows: vec![json!({"id": 1, "body": {"name": "電子カルテサーバ"}})],
                },
                ArchivedTable {
                    name: "orders".into(),
                    after_return: AfterReturn::Kept,
                    rows: vec![json!({"id": 3})],
                },
            ],
            files: vec![
                ArchivedFile {
                    id: 9,
                    name: "../../etc/passwd".into(),
                    content_type: "image/jpeg".into(),
                    sha256: "ab".into(),
                    held_by: "ledger_photos".into(),
                    after_return: AfterReturn::Deleted,
                    bytes: vec![1, 2, 3],
                },
                ArchivedFile {
                    id: 10,
                    name: "報告書.pdf".into(),
                    content_type: "application/pdf".into(),
                    sha256: "cd".into(),
                    held_by: "report_files".into(),
                    after_return: AfterReturn::Deleted,
                    bytes: b"%PDF-1.7".to_vec(),
                },
            ],
        }
    }

    fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut entry = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                (entry.name().expect("entry name").to_string(), data)
            })
            .collect()
    }

    #[test]
    fn the_archive_holds_rows_files_manifest_and_readme() {
        let made_at = time::macros::datetime!(2026-11-27 10:00 UTC);
        let bytes = hospital_archive(&contents(), made_at).unwrap();
        let entries = entries(&bytes);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "data/deleted/ledger_records.json",
                "data/kept/orders.json",
                "files/ledger_photos/9-_.._etc_passwd",
                "reports/10-報告書.pdf",
                "manifest.json",
                "README.txt",
            ]
        );
        let rows: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
        assert_eq!(rows[0]["body"]["name"], "電子カルテサーバ");
        assert_eq!(entries[2].1, vec![1, 2, 3]);
        let manifest: serde_json::Value = serde_json::from_slice(&entries[4].1).unwrap();
        assert_eq!(manifest["digest"], contents().digest());
        assert_eq!(manifest["made_at"], "2026-11-27T10:00:00Z");
        assert_eq!(manifest["tables"][1]["after_return"], "kept");
        assert_eq!(manifest["files"][1]["path"], "reports/10-報告書.pdf");
        let readme = String::from_utf8(entries[5].1.clone()).unwrap();
        assert!(readme.contains("白浜病院"));
        assert!(readme.contains(&contents().digest()));
        assert!(readme.contains("1 行、ファイル 2 件"), "{readme}");
    }
}
