//! The S3 repository backend (effectful shell): rustic_core's blocking backend traits over
//! aws-sdk-s3, storing a repository under `s3://BUCKET/PREFIX` in restic's layout
//! (`config`, `keys/ID`, `snapshots/ID`, `index/ID`, `data/XX/ID`), so `restic -r
//! s3:…/BUCKET/PREFIX` reads it too. Credentials, region and endpoint come from the standard
//! AWS chain, honouring `AWS_ENDPOINT_URL` (path-style addressing then, as moto, MinIO and
//! LocalStack expect).

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};
use std::future::Future;

/// How many times one repository operation is tried before its error stands, on top of the
/// SDK's own retries of each request (as restic's backends retry theirs): S3 throttles
/// bursts of writes with SlowDown for longer than the SDK's five attempts, and the SDK's
/// retry quota, shared by the process, runs dry under a long run of them.
const TRIES: u32 = 8;
/// The first pause between tries; it doubles, up to [`MAX_PAUSE`].
const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);
const MAX_PAUSE: std::time::Duration = std::time::Duration::from_secs(10);

/// A repository in a bucket, under a key prefix.
#[derive(Debug)]
pub struct S3Backend {
    client: Client,
    bucket: String,
    /// The key prefix without a trailing slash (may be empty).
    prefix: String,
    /// The region the client signs for (used when the bucket has to be created).
    region: String,
    /// The storage class data packs are written with (a cold repository's); others STANDARD.
    pack_class: Option<aws_sdk_s3::types::StorageClass>,
    /// The backend's own runtime: rustic_core calls backends from plain threads (its packer
    /// and its restorer), and sometimes from inside coffer's own runtime, so requests run
    /// here and the caller waits on a channel, which is allowed everywhere.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for S3Backend {
    fn drop(&mut self) {
        // dropping a runtime blocks, which panics inside another runtime; this does not
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn backend_error(what: String, e: impl std::fmt::Display) -> Box<RusticError> {
    RusticError::new(ErrorKind::Backend, format!("{what}: {e}"))
}

fn sdk_error<E, R>(what: String, e: SdkError<E, R>) -> Box<RusticError>
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    backend_error(what, DisplayErrorContext(e))
}

/// Why one try of an operation failed: for now (throttling, a server error, a lost or cut
/// answer), or for good (no such key, access denied, a bad request).
enum Failure {
    Transient(String),
    Permanent(String),
}

impl Failure {
    fn of<E>(e: SdkError<E, aws_smithy_runtime_api::http::Response>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let transient = match &e {
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(s) => {
                e.code().is_some_and(crate::aws::error::is_transient_code)
                    || s.raw().status().is_server_error()
            }
            _ => false,
        };
        let text = DisplayErrorContext(e).to_string();
        if transient {
            Failure::Transient(text)
        } else {
            Failure::Permanent(text)
        }
    }
}

/// Tries `op` until it succeeds, fails for good, or has failed [`TRIES`] times for now,
/// pausing between tries.
async fn persist<T, F, Fut>(what: &str, mut op: F) -> RusticResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut pause = FIRST_PAUSE;
    let mut tries = 0;
    loop {
        tries += 1;
        match op().await {
            Ok(v) => return Ok(v),
            Err(Failure::Transient(e)) if tries < TRIES => {
                tracing::debug!("{what}: {e}; trying again in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            Err(Failure::Transient(e)) => {
                return Err(backend_error(format!("{what} (failed {tries} times)"), e))
            }
            Err(Failure::Permanent(e)) => return Err(backend_error(what.to_string(), e)),
        }
    }
}

/// Runs `fut` on `runtime` and waits for it from any thread.
fn run_on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| "the S3 client stopped before answering".to_string())
}

impl S3Backend {
    /// A backend for `s3://bucket/prefix`, with the standard AWS configuration chain. The
    /// region is the chain's (AWS_REGION, the profile), else us-east-1.
    pub fn new(bucket: &str, prefix: &str) -> Result<S3Backend, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("coffer-s3")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the S3 client: {e}"))?;
        let config = run_on(&runtime, async {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
                loader = loader
                    .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5));
            }
            loader.load().await
        })?;
        let region = config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .region(aws_sdk_s3::config::Region::new(region.clone()))
            .force_path_style(crate::aws::custom_endpoint())
            .build();
        Ok(S3Backend {
            client: Client::from_conf(s3),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            region,
            pack_class: None,
            runtime: Some(runtime),
        })
    }

    /// Data packs written with this S3 storage class (`STANDARD_IA`, `GLACIER_IR` …).
    pub fn with_pack_class(mut self, class: Option<&str>) -> S3Backend {
        self.pack_class = class.map(aws_sdk_s3::types::StorageClass::from);
        self
    }

    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = RusticResult<T>> + Send + 'static,
    ) -> RusticResult<T> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| backend_error(self.location(), "the S3 client was shut down"))?;
        run_on(runtime, fut).map_err(|e| backend_error(self.location(), e))?
    }

    /// The key of a directory (`keys/`, `data/`, …), ending in a slash.
    fn dir_key(&self, tpe: FileType) -> String {
        self.key(tpe.dirname()) + "/"
    }

    fn key(&self, rest: &str) -> String {
        if self.prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// The object key of one repository file, in restic's layout.
    fn object_key(&self, tpe: FileType, id: &Id) -> String {
        let hex = id.to_hex();
        match tpe {
            FileType::Config => self.key("config"),
            FileType::Pack => self.key(&format!("data/{}/{}", &hex[0..2], hex.as_str())),
            _ => self.key(&format!("{}/{}", tpe.dirname(), hex.as_str())),
        }
    }

    /// The names of the objects in `dir` (relative to the prefix, e.g. `locks`): files that
    /// rustic_core's file types do not cover, such as restic's locks.
    pub(super) fn raw_list(&self, dir: &str) -> RusticResult<Vec<String>> {
        let prefix = self.key(dir) + "/";
        Ok(self
            .list_objects(prefix.clone())?
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix(&prefix).map(str::to_string))
            .collect())
    }

    /// Whether the object `rel` (relative to the prefix) exists.
    pub(super) fn raw_exists(&self, rel: &str) -> RusticResult<bool> {
        let key = self.key(rel);
        Ok(self
            .list_objects(key.clone())?
            .into_iter()
            .any(|(k, _)| k == key))
    }

    pub(super) fn raw_get(&self, rel: &str) -> RusticResult<Bytes> {
        self.get(self.key(rel), None)
    }

    pub(super) fn raw_put(&self, rel: &str, body: Vec<u8>) -> RusticResult<()> {
        self.put(self.key(rel), body.into(), None)
    }

    pub(super) fn raw_delete(&self, rel: &str) -> RusticResult<()> {
        self.delete(self.key(rel))
    }

    fn put(
        &self,
        key: String,
        body: Bytes,
        class: Option<aws_sdk_s3::types::StorageClass>,
    ) -> RusticResult<()> {
        let (client, bucket, what) = (self.client.clone(), self.bucket.clone(), self.url(&key));
        self.run(async move {
            // a repository file is named by its content: writing it again is harmless
            persist(&format!("cannot write {what}"), || async {
                client
                    .put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .set_storage_class(class.clone())
                    .body(ByteStream::from(body.clone()))
                    .send()
                    .await
                    .map_err(Failure::of)?;
                Ok(())
            })
            .await
        })
    }

    fn delete(&self, key: String) -> RusticResult<()> {
        let (client, bucket, what) = (self.client.clone(), self.bucket.clone(), self.url(&key));
        self.run(async move {
            // deleting what is gone answers success: asking again is harmless
            persist(&format!("cannot delete {what}"), || async {
                client
                    .delete_object()
                    .bucket(&bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(Failure::of)?;
                Ok(())
            })
            .await
        })
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// Every object under `prefix`, with its size.
    fn list_objects(&self, prefix: String) -> RusticResult<Vec<(String, i64)>> {
        let (client, bucket, what) = (self.client.clone(), self.bucket.clone(), self.url(&prefix));
        self.run(async move {
            persist(&format!("cannot list {what}"), || async {
                let mut pages = client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(&prefix)
                    .into_paginator()
                    .send();
                let mut out = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = match page {
                        Ok(page) => page,
                        // no bucket yet: no repository yet (apply creates both)
                        Err(e) if e.code() == Some("NoSuchBucket") => return Ok(Vec::new()),
                        Err(e) => return Err(Failure::of(e)),
                    };
                    for object in page.contents() {
                        if let Some(key) = object.key() {
                            out.push((key.to_string(), object.size().unwrap_or_default()));
                        }
                    }
                }
                Ok(out)
            })
            .await
        })
    }

    fn get(&self, key: String, range: Option<String>) -> RusticResult<Bytes> {
        let (client, bucket, what) = (self.client.clone(), self.bucket.clone(), self.url(&key));
        self.run(async move {
            persist(&format!("cannot read {what}"), || async {
                let answer = client
                    .get_object()
                    .bucket(&bucket)
                    .key(&key)
                    .set_range(range.clone())
                    .send()
                    .await
                    .map_err(Failure::of)?;
                // a body cut short once its headers arrived (a connection dropped
                // mid-download), which the SDK does not retry: the read is asked again
                let body = answer
                    .body
                    .collect()
                    .await
                    .map_err(|e| Failure::Transient(e.to_string()))?;
                Ok(body.into_bytes())
            })
            .await
        })
    }

    /// Whether the bucket exists; creates it (in the client's region) when it does not.
    fn ensure_bucket(&self) -> RusticResult<()> {
        let (client, bucket, region) = (
            self.client.clone(),
            self.bucket.clone(),
            self.region.clone(),
        );
        let what = format!("s3://{bucket}");
        self.run(async move {
            match client.head_bucket().bucket(&bucket).send().await {
                Ok(_) => return Ok(()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
                Err(e) => return Err(sdk_error(format!("cannot reach the bucket {what}"), e)),
            }
            let mut create = client.create_bucket().bucket(&bucket);
            if region != "us-east-1" {
                create = create.create_bucket_configuration(
                    aws_sdk_s3::types::CreateBucketConfiguration::builder()
                        .location_constraint(region.as_str().into())
                        .build(),
                );
            }
            match create.send().await {
                Ok(_) => Ok(()),
                // created meanwhile by someone else: fine if it is ours
                Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
                Err(e) => Err(sdk_error(format!("cannot create the bucket {what}"), e)),
            }
        })
    }
}

impl ReadBackend for S3Backend {
    fn location(&self) -> String {
        self.url(&self.prefix)
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            let key = self.object_key(tpe, &Id::default());
            return Ok(self
                .list_objects(key.clone())?
                .into_iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, size)| (Id::default(), u32::try_from(size).unwrap_or_default()))
                .collect());
        }
        Ok(self
            .list_objects(self.dir_key(tpe))?
            .into_iter()
            .filter_map(|(key, size)| {
                let name = key.rsplit('/').next()?;
                let id = Id::parse_some(name, tpe)?;
                Some((id, u32::try_from(size).ok()?))
            })
            .collect())
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        self.get(self.object_key(tpe, id), None)
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        if length == 0 {
            return Ok(Bytes::new());
        }
        let last = u64::from(offset) + u64::from(length) - 1;
        self.get(
            self.object_key(tpe, id),
            Some(format!("bytes={offset}-{last}")),
        )
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.url(&self.object_key(tpe, id))
    }
}

impl WriteBackend for S3Backend {
    fn create(&self) -> RusticResult<()> {
        self.ensure_bucket()
    }

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        let parts = content.into_vec();
        let body: Bytes = if parts.len() == 1 {
            parts.into_iter().next().unwrap_or_default()
        } else {
            parts.concat().into()
        };
        let class = (tpe == FileType::Pack)
            .then(|| self.pack_class.clone())
            .flatten();
        self.put(self.object_key(tpe, id), body, class)
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        self.delete(self.object_key(tpe, id))
    }
}

/// Deletes every object of the repository under `s3://bucket/prefix` (the vault's
/// `force_destroy`): restic's files and directories only, so other objects sharing the
/// prefix stay. Returns how many were deleted.
pub fn delete_all(backend: &S3Backend) -> Result<usize, String> {
    let mut keys = Vec::new();
    for part in ["config", "keys/", "snapshots/", "index/", "data/", "locks/"] {
        let prefix = backend.key(part);
        let found = backend
            .list_objects(prefix.clone())
            .map_err(|e| e.to_string())?;
        keys.extend(
            found
                .into_iter()
                .map(|(k, _)| k)
                .filter(|k| part.ends_with('/') || *k == prefix),
        );
    }
    let count = keys.len();
    for chunk in keys.chunks(1000) {
        let (client, bucket) = (backend.client.clone(), backend.bucket.clone());
        let objects = chunk
            .iter()
            .map(|k| {
                aws_sdk_s3::types::ObjectIdentifier::builder()
                    .key(k)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let what = backend.location();
        backend
            .run(async move {
                let delete = aws_sdk_s3::types::Delete::builder()
                    .set_objects(Some(objects))
                    .build()
                    .map_err(|e| backend_error(what.clone(), e))?;
                client
                    .delete_objects()
                    .bucket(bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| sdk_error(format!("cannot delete objects of {what}"), e))?;
                Ok(())
            })
            .map_err(|e| e.to_string())?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(prefix: &str) -> S3Backend {
        S3Backend {
            client: Client::from_conf(
                aws_sdk_s3::config::Builder::new()
                    .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                    .build(),
            ),
            bucket: "b".into(),
            prefix: prefix.into(),
            region: "us-east-1".into(),
            pack_class: None,
            runtime: None,
        }
    }

    #[test]
    fn keys_follow_restics_layout() {
        let id: Id = "ab12000000000000000000000000000000000000000000000000000000000000"
            .parse()
            .unwrap();
        let b = backend("vaults/main");
        assert_eq!(b.object_key(FileType::Config, &id), "vaults/main/config");
        assert_eq!(
            b.object_key(FileType::Pack, &id),
            format!("vaults/main/data/ab/{}", id.to_hex().as_str())
        );
        assert_eq!(
            b.object_key(FileType::Snapshot, &id),
            format!("vaults/main/snapshots/{}", id.to_hex().as_str())
        );
        assert_eq!(b.dir_key(FileType::Key), "vaults/main/keys/");
        let bare = backend("");
        assert_eq!(bare.object_key(FileType::Config, &id), "config");
        assert_eq!(bare.dir_key(FileType::Index), "index/");
        assert_eq!(bare.location(), "s3://b/");
    }
}
