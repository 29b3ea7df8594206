//! Photos of ledger records taken on the walk-through (a rack, a label, a
//! maintenance line), kept in the file store beside the other files.

use super::{not_found, parse_key, parse_kind, recheck, record_of, require};
use crate::audit::{AuditContext, append};
use crate::files::{MAX_FILE_BYTES, NewFile, StoredFile};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::ledger::{LedgerKey, RecordKind};
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};
use mamori_domain::{AccountId, DomainError, validate};
use serde::Serialize;

pub const MAX_PHOTO_CAPTION_CHARS: usize = 500;

/// One photo of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerPhoto {
    pub id: i64,
    pub kind: RecordKind,
    pub key: LedgerKey,
    pub file: StoredFile,
    pub caption: String,
    pub added_at_ms: i64,
    pub added_by: Option<AccountId>,
}

/// The image types accepted, told by their first bytes (never by the
/// name): content type and the extensions that go with it.
fn image_type(data: &[u8]) -> Option<(&'static str, &'static [&'static str])> {
    const HEIC: &[&[u8]] = &[b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"];
    const HEIF: &[&[u8]] = &[b"mif1", b"msf1"];
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(("image/jpeg", &["jpg", "jpeg"]));
    }
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(("image/png", &["png"]));
    }
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return Some(("image/webp", &["webp"]));
    }
    if data.len() >= 12 && &data[4..8] == b"ftyp" {
        let brand = &data[8..12];
        if HEIC.contains(&brand) {
            return Some(("image/heic", &["heic"]));
        }
        if HEIF.contains(&brand) {
            return Some(("image/heif", &["heif", "heic"]));
        }
    }
    None
}

/// Checks a photo: an image by its bytes, within the size limit, with a
/// name whose extension says what it is. Returns the name to keep and the
/// content type.
fn checked_photo(file: &NewFile) -> Result<(String, &'static str)> {
    let name = file
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
            DomainError::invalid("file", "the photo needs a name of 1–200 characters").into(),
        );
    }
    if file.data.is_empty() {
        return Err(DomainError::invalid("file", format!("{name} is empty")).into());
    }
    if file.data.len() > MAX_FILE_BYTES {
        return Err(DomainError::invalid(
            "file",
            format!(
                "{name} is {} MB; the limit is {} MB",
                file.data.len().div_ceil(1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .into());
    }
    let Some((content_type, extensions)) = image_type(&file.data) else {
        return Err(DomainError::invalid(
            "file",
            format!("{name} is not a photo (accepted: JPEG, PNG, WebP, HEIC)"),
        )
        .into());
    };
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    // The name is served with the file: it must not promise another type.
    let name = if extensions.contains(&extension.as_str()) {
        name
    } else {
        format!("{name}.{}", extensions[0])
    };
    Ok((name, content_type))
}

type PhotoRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
);

const PHOTO_SELECT: &str = "SELECT p.id, r.kind, r.record_key, f.id, f.name, f.content_type, f.size_bytes, f.sha256, p.caption, p.added_at, p.added_by
     FROM ledger_photos p JOIN ledger_records r ON r.id = p.record_id JOIN files f ON f.id = p.file_id";

fn photo(row: PhotoRow) -> Result<LedgerPhoto> {
    Ok(LedgerPhoto {
        id: row.0,
        kind: parse_kind(&row.1)?,
        key: parse_key("ledger_records.record_key", &row.2)?,
        file: StoredFile {
            id: row.3,
            name: row.4,
            content_type: row.5,
            size_bytes: row.6,
            sha256: row.7,
        },
        caption: row.8,
        added_at_ms: row.9,
        added_by: row.10.map(AccountId),
    })
}

impl Store {
    /// Adds a photo to a live record: JPEG, PNG, WebP or HEIC (told by its
    /// bytes), within the file size limit; audited.
    pub async fn add_ledger_photo(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        kind: RecordKind,
        key: &LedgerKey,
        file: NewFile,
        caption: &str,
    ) -> Result<LedgerPhoto> {
        require(grant, ctx, HospitalData::Ledger, Access::Write)?;
        let (name, content_type) = checked_photo(&file)?;
        let caption = validate::note("caption", caption, MAX_PHOTO_CAPTION_CHARS)?;
        let hospital = grant.hospital();
        let actor = Some(grant.actor().account);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let record = match record_of(&mut tx, hospital, kind, key).await? {
            Some(r) if !r.deleted => r,
            _ => return Err(not_found(kind, key)),
        };
        let stored = self
            .insert_checked_file(&mut tx, actor, &name, content_type, &file.data)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ledger_photos (hospital_id, record_id, file_id, caption, added_at, added_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(hospital.0)
        .bind(record.meta.id)
        .bind(stored.id)
        .bind(&caption)
        .bind(now)
        .bind(actor.map(|a| a.0))
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::LedgerPhotoAdded,
            format!("ledger-photo:{id}"),
            Some(hospital),
            format!(
                "kind={kind} key={key} file={} type={content_type} bytes={}",
                stored.id, stored.size_bytes
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(LedgerPhoto {
            id,
            kind,
            key: key.clone(),
            file: stored,
            caption,
            added_at_ms: now,
            added_by: actor,
        })
    }

    /// The photos of one record (deleted records keep theirs), oldest
    /// first; audited.
    pub async fn ledger_photos(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        kind: RecordKind,
        key: &LedgerKey,
    ) -> Result<Vec<LedgerPhoto>> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_read().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let Some(record) = record_of(&mut tx, hospital, kind, key).await? else {
            return Err(not_found(kind, key));
        };
        let rows: Vec<PhotoRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PHOTO_SELECT} WHERE p.record_id = $1 ORDER BY p.id"
        )))
        .bind(record.meta.id)
        .fetch_all(&mut *tx)
        .await?;
        let photos = rows.into_iter().map(photo).collect::<Result<Vec<_>>>()?;
        self.finish_read(
            tx,
            ctx,
            format!("ledger-record:{}", record.meta.id),
            Some(hospital),
            format!("photos of {kind} {key} ({})", photos.len()),
        )
        .await?;
        Ok(photos)
    }

    /// One photo's file, if it is of this hospital's ledger; audited.
    pub async fn ledger_photo_file(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        photo_id: i64,
    ) -> Result<(StoredFile, Vec<u8>)> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        // Another hospital's photo is answered as if it did not exist.
        let file_id: Option<i64> = sqlx::query_scalar(
            "SELECT file_id FROM ledger_photos WHERE id = $1 AND hospital_id = $2",
        )
        .bind(photo_id)
        .bind(hospital.0)
        .fetch_optional(&mut *tx)
        .await?;
        let file_id = file_id.ok_or(StoreError::NotFound {
            what: "ledger photo",
            key: photo_id.to_string(),
        })?;
        append(
            &mut tx,
            ctx,
            AuditAction::FileRead,
            format!("file:{file_id}"),
            Some(hospital),
            format!("ledger-photo={photo_id}"),
        )
        .await?;
        tx.commit().await?;
        self.file_content(file_id).await
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
    fn photos_are_told_by_their_bytes() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        assert_eq!(
            checked_photo(&file("C:\\写真\\ラック.JPG", &jpeg)).unwrap(),
            ("ラック.JPG".to_string(), "image/jpeg")
        );
        // A name that promises another type gets the right extension.
        assert_eq!(
            checked_photo(&file("rack.exe", &jpeg)).unwrap(),
            ("rack.exe.jpg".to_string(), "image/jpeg")
        );
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(checked_photo(&file("a.png", png)).unwrap().1, "image/png");
        let webp = b"RIFF\x24\0\0\0WEBPVP8 ";
        assert_eq!(
            checked_photo(&file("a.webp", webp)).unwrap().1,
            "image/webp"
        );
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0";
        assert_eq!(
            checked_photo(&file("IMG_0001.HEIC", heic)).unwrap(),
            ("IMG_0001.HEIC".to_string(), "image/heic")
        );
        // A PDF named like a photo is not a photo.
        let err = checked_photo(&file("rack.jpg", b"%PDF-1.7")).unwrap_err();
        assert!(err.to_string().contains("not a photo"), "{err}");
        assert!(checked_photo(&file("rack.jpg", b"")).is_err());
        assert!(checked_photo(&file("..", &jpeg)).is_err());
        let mut big = jpeg.to_vec();
        big.resize(MAX_FILE_BYTES + 1, 0);
        let err = checked_photo(&file("big.jpg", &big)).unwrap_err();
        assert!(err.to_string().contains("20 MB"), "{err}");
    }
}
