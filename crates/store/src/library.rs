//! Files of a programme's document library (procedures and forms handed to
//! the companies and hospitals): downloaded by anyone who sees programmes,
//! each download audited.

use crate::audit::append;
use crate::files::StoredFile;
use crate::{AuditContext, Result, Store, StoreError};
use mamori_domain::ProgrammeId;
use mamori_domain::audit::AuditAction;
use mamori_domain::organisation::OrgKind;

impl Store {
    /// The file of one document of a programme's library.
    pub async fn programme_document_file(
        &self,
        ctx: &AuditContext,
        programme: ProgrammeId,
        document: i64,
    ) -> Result<(StoredFile, Vec<u8>)> {
        ctx.require("see programmes", |a| a.org_kind != OrgKind::Vendor)?;
        let file: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT file_id FROM programme_documents WHERE id = $1 AND programme_id = $2",
        )
        .bind(document)
        .bind(programme.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(Some(file_id)) = file else {
            return Err(StoreError::NotFound {
                what: "document file",
                key: format!("{programme}/{document}"),
            });
        };
        let mut tx = self.begin_write().await?;
        append(
            &mut tx,
            ctx,
            AuditAction::FileRead,
            format!("file:{file_id}"),
            None,
            format!("programme={programme} document={document}"),
        )
        .await?;
        tx.commit().await?;
        self.file_content(file_id).await
    }
}
