//! Uploaded and generated files (signed scans, letters, the programme's
//! forms). Their rows live in the database; their bytes beside them or in a
//! bucket (`blobs`).

use crate::audit::AuditContext;
use crate::backup::sha256_hex;
use crate::db::Tx;
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::{AccountId, DomainError};
use serde::Serialize;

/// The largest file accepted (a scanned contract is a few megabytes).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// The file types accepted, by extension, with the type they are served as.
const ACCEPTED: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("txt", "text/plain; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("tsv", "text/tab-separated-values; charset=utf-8"),
    // The report's diagrams, for draw.io.
    ("drawio", "application/vnd.jgraph.mxfile"),
];

/// A file to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A stored file's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

impl NewFile {
    /// Checks name, type and size; returns the name to keep and the content type.
    pub fn checked(&self) -> Result<(String, &'static str)> {
        // Only the last path component of whatever the browser sent.
        let name = self
            .name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>();
        if name.is_empty() || name == "." || name == ".." || name.chars().count() > 200 {
            return Err(
                DomainError::invalid("file", "the file needs a name of 1–200 characters").into(),
            );
        }
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let Some((_, content_type)) = ACCEPTED.iter().find(|(e, _)| *e == extension) else {
            return Err(DomainError::invalid(
                "file",
                format!(
                    "{name}: type .{extension} is not accepted (accepted: {})",
                    ACCEPTED
                        .iter()
                        .map(|(e, _)| *e)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into());
        };
        if self.data.is_empty() {
            return Err(DomainError::invalid("file", format!("{name} is empty")).into());
        }
        if self.data.len() > MAX_FILE_BYTES {
            return Err(DomainError::invalid(
                "file",
                format!(
                    "{name} is {} MB; the limit is {} MB",
                    self.data.len().div_ceil(1024 * 1024),
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            )
            .into());
        }
        // The bytes must be what the name says: a page renamed .png or a
        // program renamed .xlsx is not stored and served as one.
        let (magic, what): (&[u8], &str) = match extension.as_str() {
            "pdf" => (b"%PDF-", "a PDF"),
            "png" => (b"\x89PNG\r\n\x1a\n", "a PNG image"),
            "jpg" | "jpeg" => (b"\xFF\xD8\xFF", "a JPEG image"),
            "xlsx" => (b"PK", "an Excel workbook"),
            "docx" => (b"PK", "a Word document"),
            _ => (b"", ""),
        };
        if !self.data.starts_with(magic) {
            return Err(DomainError::invalid("file", format!("{name} is not {what}")).into());
        }
        Ok((name, content_type))
    }
}

impl Store {
    /// Stores a file in the caller's transaction; the caller audits what it is for.
    pub(crate) async fn insert_file(
        &self,
        tx: &mut Tx,
        ctx: &AuditContext,
        file: &NewFile,
    ) -> Result<i64> {
        let (name, content_type) = file.checked()?;
        self.insert_checked_file(
            tx,
            ctx.actor.map(|a| a.account),
            &name,
            content_type,
            &file.data,
        )
        .await
        .map(|stored| stored.id)
    }

    /// Stores a file whose name and type the caller has checked.
    pub(crate) async fn insert_checked_file(
        &self,
        tx: &mut Tx,
        actor: Option<AccountId>,
        name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<StoredFile> {
        let sha256 = sha256_hex(data);
        let size_bytes = data.len() as i64;
        let id: i64 = sqlx::query_scalar("INSERT INTO files (name, content_type, size_bytes, sha256, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(name)
            .bind(content_type)
            .bind(size_bytes)
            .bind(&sha256)
            .bind(now_ms())
            .bind(actor.map(|a| a.0))
            .fetch_one(&mut **tx)
            .await?;
        self.write_blob(tx, id, &sha256, data).await?;
        Ok(StoredFile {
            id,
            name: name.to_string(),
            content_type: content_type.to_string(),
            size_bytes,
            sha256,
        })
    }

    /// A file's metadata and bytes, without any check: callers decide first
    /// whether the actor may have it.
    pub(crate) async fn file_content(&self, id: i64) -> Result<(StoredFile, Vec<u8>)> {
        let mut conn = self.pool.acquire().await?;
        let row: Option<(i64, String, String, i64, String)> = sqlx::query_as(
            "SELECT id, name, content_type, size_bytes, sha256 FROM files WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((id, name, content_type, size_bytes, sha256)) = row else {
            return Err(StoreError::NotFound {
                what: "file",
                key: id.to_string(),
            });
        };
        let Some(data) = self.read_blob(&mut conn, id, &sha256).await? else {
            return Err(StoreError::Corrupt {
                column: "files.id",
                value: format!("file {id} ({name}) has no stored bytes"),
            });
        };
        Ok((
            StoredFile {
                id,
                name,
                content_type,
                size_bytes,
                sha256,
            },
            data,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, data: &[u8]) -> NewFile {
        NewFile {
            name: name.into(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn names_types_and_sizes_are_checked() {
        assert_eq!(
            file("../../etc/scan.PDF", b"%PDF-1.7").checked().unwrap(),
            ("scan.PDF".to_string(), "application/pdf")
        );
        assert!(file("scan.exe", b"MZ").checked().is_err());
        assert!(file("scan.pdf", b"<html>").checked().is_err());
        assert!(file("photo.png", b"<html>").checked().is_err());
        assert!(file("photo.jpg", b"MZ").checked().is_err());
        assert!(file("sheet.xlsx", b"\x89PNG\r\n\x1a\n").checked().is_err());
        assert!(file("empty.txt", b"").checked().is_err());
        assert!(file("..", b"x").checked().is_err());
        let big = NewFile {
            name: "big.txt".into(),
            data: vec![b'a'; MAX_FILE_BYTES + 1],
        };
        let message = big.checked().unwrap_err().to_string();
        assert!(message.contains("20 MB"), "{message}");
    }
}
