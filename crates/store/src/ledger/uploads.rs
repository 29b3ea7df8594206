//! Files uploaded for a ledger import. They are kept: the preview and the
//! import read the same bytes, and the import can be traced to its file.

use super::{recheck, require};
use crate::audit::{AuditContext, append};
use crate::files::{NewFile, StoredFile};
use crate::{Result, Store, StoreError, now_ms};
use mamori_domain::audit::AuditAction;
use mamori_domain::policy::{Access, HospitalData, HospitalGrant};

impl Store {
    /// Keeps an uploaded file with the hospital's ledger; audited.
    pub async fn keep_ledger_upload(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        file: NewFile,
    ) -> Result<StoredFile> {
        require(grant, ctx, HospitalData::Ledger, Access::Write)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let file_id = self.insert_file(&mut tx, ctx, &file).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ledger_uploads (hospital_id, file_id, added_at, added_by) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(hospital.0)
        .bind(file_id)
        .bind(now_ms())
        .bind(grant.actor().account.0)
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            ctx,
            AuditAction::HospitalDataWritten,
            format!("ledger-upload:{id}"),
            Some(hospital),
            format!("file={file_id}"),
        )
        .await?;
        tx.commit().await?;
        let (mut stored, _) = self.file_content(file_id).await?;
        stored.id = id;
        Ok(stored)
    }

    /// A kept upload of this hospital (another hospital's is not found),
    /// with its bytes; audited. The id is the upload's.
    pub async fn ledger_upload(
        &self,
        ctx: &AuditContext,
        grant: &HospitalGrant,
        upload: i64,
    ) -> Result<(StoredFile, Vec<u8>)> {
        require(grant, ctx, HospitalData::Ledger, Access::Read)?;
        let hospital = grant.hospital();
        let mut tx = self.begin_write().await?;
        recheck(&mut tx, grant, self.today()).await?;
        let file_id: Option<i64> = sqlx::query_scalar(
            "SELECT file_id FROM ledger_uploads WHERE id = $1 AND hospital_id = $2",
        )
        .bind(upload)
        .bind(hospital.0)
        .fetch_optional(&mut *tx)
        .await?;
        let file_id = file_id.ok_or(StoreError::NotFound {
            what: "ledger upload",
            key: upload.to_string(),
        })?;
        append(
            &mut tx,
            ctx,
            AuditAction::FileRead,
            format!("file:{file_id}"),
            Some(hospital),
            format!("ledger-upload={upload}"),
        )
        .await?;
        tx.commit().await?;
        let (mut stored, data) = self.file_content(file_id).await?;
        stored.id = upload;
        Ok((stored, data))
    }
}
