//! Where the bytes of stored files live. By default in the database beside
//! their rows (`file_blobs`), so that one backup holds everything. A
//! deployment of several instances may keep them in an S3-compatible bucket
//! instead (feature `s3`): objects are named by their SHA-256, so writing
//! one twice is harmless, a row never points at bytes that differ from its
//! digest, and a file written before the bucket was configured is still
//! read from the database.

use crate::{Result, Store, StoreError};
use sqlx::AnyConnection;
#[cfg(feature = "s3")]
use std::sync::Arc;

/// An S3-compatible bucket for the stored files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectStorageConfig {
    pub bucket: String,
    /// The service's address for MinIO, Ceph, moto and the like; `None`
    /// for AWS itself. `http://` addresses are allowed (a local service).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Credentials; when absent, the usual `AWS_*` environment variables
    /// (and instance roles) apply.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Put before every object name, so several deployments may share a bucket.
    pub prefix: String,
}

/// Where file bytes are written.
#[derive(Clone, Default)]
pub(crate) enum Blobs {
    #[default]
    Database,
    #[cfg(feature = "s3")]
    Bucket {
        objects: Arc<dyn object_store::ObjectStore>,
        prefix: String,
        label: String,
    },
}

impl ObjectStorageConfig {
    #[cfg(feature = "s3")]
    fn build(&self) -> Result<Blobs> {
        use object_store::aws::AmazonS3Builder;
        let bucket = self.bucket.trim();
        if bucket.is_empty() {
            return Err(StoreError::ObjectStorage(
                "MAMORI_S3_BUCKET: the bucket name is empty".into(),
            ));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = self.endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
            builder = builder
                .with_endpoint(endpoint.trim())
                .with_allow_http(endpoint.trim().starts_with("http://"))
                // Local services answer at one address, not per bucket.
                .with_virtual_hosted_style_request(false);
        }
        if let Some(region) = self.region.as_deref().filter(|r| !r.trim().is_empty()) {
            builder = builder.with_region(region.trim());
        }
        if let Some(key) = &self.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &self.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let objects = builder
            .build()
            .map_err(|e| StoreError::ObjectStorage(format!("bucket {bucket}: {e}")))?;
        let prefix = self.prefix.trim().trim_matches('/');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        Ok(Blobs::Bucket {
            objects: Arc::new(objects),
            label: format!("s3://{bucket}/{prefix}"),
            prefix,
        })
    }

    #[cfg(not(feature = "s3"))]
    fn build(&self) -> Result<Blobs> {
        Err(StoreError::ObjectStorage(
            "this build of Mamori has no S3 support (cargo feature `s3`)".into(),
        ))
    }
}

#[cfg(feature = "s3")]
fn object_path(prefix: &str, sha256: &str) -> object_store::path::Path {
    object_store::path::Path::from(format!("{prefix}files/{sha256}"))
}

#[cfg(feature = "s3")]
fn bucket_error(label: &str, e: object_store::Error) -> StoreError {
    StoreError::ObjectStorage(format!("{label}: {e}"))
}

impl Store {
    /// This store with its files' bytes written to a bucket from now on.
    pub fn with_object_storage(mut self, config: &ObjectStorageConfig) -> Result<Store> {
        self.blobs = config.build()?;
        Ok(self)
    }

    /// Where new files' bytes go, for the operator: `database` or `s3://bucket/prefix/`.
    pub fn file_storage_label(&self) -> String {
        match &self.blobs {
            Blobs::Database => "database".into(),
            #[cfg(feature = "s3")]
            Blobs::Bucket { label, .. } => label.clone(),
        }
    }

    /// Answers when the bucket answers (a missing object is an answer), so
    /// that a wrong address or key stops the server at start, not at the
    /// first upload.
    pub async fn check_object_storage(&self) -> Result<()> {
        match &self.blobs {
            Blobs::Database => Ok(()),
            #[cfg(feature = "s3")]
            Blobs::Bucket {
                objects,
                prefix,
                label,
            } => {
                use object_store::ObjectStoreExt;
                match objects.head(&object_path(prefix, "probe")).await {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(bucket_error(label, e)),
                }
            }
        }
    }

    /// Keeps a file's bytes, in the caller's transaction for the database,
    /// before it commits for a bucket (an object nothing names yet is
    /// harmless; a row naming a missing object would not be).
    pub(crate) async fn write_blob(
        &self,
        conn: &mut AnyConnection,
        file_id: i64,
        sha256: &str,
        data: &[u8],
    ) -> Result<()> {
        match &self.blobs {
            Blobs::Database => {
                // Rows in the database are found by id; only objects by digest.
                let _ = sha256;
                sqlx::query("INSERT INTO file_blobs (file_id, data) VALUES ($1, $2)")
                    .bind(file_id)
                    .bind(data.to_vec())
                    .execute(conn)
                    .await?;
                Ok(())
            }
            #[cfg(feature = "s3")]
            Blobs::Bucket {
                objects,
                prefix,
                label,
            } => {
                use object_store::ObjectStoreExt;
                let _ = (conn, file_id);
                objects
                    .put(
                        &object_path(prefix, sha256),
                        object_store::PutPayload::from(data.to_vec()),
                    )
                    .await
                    .map_err(|e| bucket_error(label, e))?;
                Ok(())
            }
        }
    }

    /// A file's bytes, from the database or the bucket, checked against its
    /// recorded digest. `None` when neither holds them.
    pub(crate) async fn read_blob(
        &self,
        conn: &mut AnyConnection,
        file_id: i64,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>> {
        let in_database: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT data FROM file_blobs WHERE file_id = $1")
                .bind(file_id)
                .fetch_optional(conn)
                .await?;
        if in_database.is_some() {
            return Ok(in_database);
        }
        match &self.blobs {
            Blobs::Database => {
                let _ = sha256;
                Ok(None)
            }
            #[cfg(feature = "s3")]
            Blobs::Bucket {
                objects,
                prefix,
                label,
            } => {
                use object_store::ObjectStoreExt;
                let found = match objects.get(&object_path(prefix, sha256)).await {
                    Ok(found) => found,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(bucket_error(label, e)),
                };
                let bytes = found.bytes().await.map_err(|e| bucket_error(label, e))?;
                if crate::backup::sha256_hex(&bytes) != sha256 {
                    return Err(StoreError::Corrupt {
                        column: "files.sha256",
                        value: format!(
                            "file {file_id}: the object in {label} differs from its digest"
                        ),
                    });
                }
                Ok(Some(bytes.to_vec()))
            }
        }
    }

    /// Removes the bucket's objects that no file names any more (after an
    /// erasure has committed). Returns how many went.
    pub(crate) async fn delete_unreferenced_blobs(&self, sha256s: &[String]) -> Result<usize> {
        match &self.blobs {
            Blobs::Database => {
                let _ = sha256s;
                Ok(0)
            }
            #[cfg(feature = "s3")]
            Blobs::Bucket {
                objects,
                prefix,
                label,
            } => {
                use object_store::ObjectStoreExt;
                let mut deleted = 0;
                for sha256 in sha256s {
                    let still_named: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE sha256 = $1")
                            .bind(sha256)
                            .fetch_one(&self.pool)
                            .await?;
                    if still_named > 0 {
                        continue;
                    }
                    match objects.delete(&object_path(prefix, sha256)).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => deleted += 1,
                        Err(e) => return Err(bucket_error(label, e)),
                    }
                }
                Ok(deleted)
            }
        }
    }
}
