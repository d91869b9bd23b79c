//! Repository keys wrapped with KMS: a file-level vault with `kms_key_arn` and no
//! `password_env` / `password_file` has a repository key that coffer generates and keeps
//! beside restic's `config` as `coffer.key.kms`, the ciphertext blob kms:Encrypt returns
//! under the vault's key. Opening the repository unwraps it with kms:Decrypt; the key itself
//! is never written anywhere. Anyone with kms:Decrypt on the key can print it for `restic`
//! without coffer (`aws kms decrypt --ciphertext-blob fileb://coffer.key.kms …`).

use super::raw::RawFiles;
use super::Location;
use aws_sdk_kms::primitives::Blob;

/// The wrapped key's file name, beside restic's `config`.
pub const KEY_FILE: &str = "coffer.key.kms";

/// The region a KMS key ARN names.
fn region_of(key_arn: &str) -> Result<String, String> {
    key_arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("`{key_arn}` names no region"))
}

/// Runs one KMS request on a thread of its own (callable from inside or outside a runtime).
fn with_kms<T: Send + 'static>(
    region: String,
    work: impl FnOnce(
            aws_sdk_kms::Client,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send>>
        + Send
        + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the KMS client: {e}"))?;
        rt.block_on(async move {
            let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(region))
                .load()
                .await;
            work(aws_sdk_kms::Client::new(&conf)).await
        })
    })
    .join()
    .map_err(|_| "the KMS client stopped".to_string())?
}

fn kms_error(call: &str, key: &str, e: impl std::fmt::Display) -> String {
    format!("{call} with {key} failed: {e}; coffer needs {call} on the vault's KMS key to use its repository")
}

/// The key wrapped with `key_arn`, as KMS ciphertext.
fn wrap(key_arn: &str, password: &str) -> Result<Vec<u8>, String> {
    let (key, plain) = (key_arn.to_string(), password.as_bytes().to_vec());
    with_kms(region_of(key_arn)?, move |kms| {
        Box::pin(async move {
            let out = kms
                .encrypt()
                .key_id(&key)
                .plaintext(Blob::new(plain))
                .send()
                .await
                .map_err(|e| {
                    kms_error(
                        "kms:Encrypt",
                        &key,
                        aws_sdk_kms::error::DisplayErrorContext(e),
                    )
                })?;
            out.ciphertext_blob()
                .map(|b| b.as_ref().to_vec())
                .ok_or_else(|| "kms:Encrypt returned no ciphertext".to_string())
        })
    })
}

/// The key in `blob`, and the ARN of the KMS key that wrapped it.
fn unwrap_blob(key_arn: &str, blob: Vec<u8>) -> Result<(String, String), String> {
    let key = key_arn.to_string();
    with_kms(region_of(key_arn)?, move |kms| {
        Box::pin(async move {
            let out = kms
                .decrypt()
                .ciphertext_blob(Blob::new(blob))
                .send()
                .await
                .map_err(|e| {
                    kms_error(
                        "kms:Decrypt",
                        &key,
                        aws_sdk_kms::error::DisplayErrorContext(e),
                    )
                })?;
            let plain = out
                .plaintext()
                .ok_or_else(|| "kms:Decrypt returned no plaintext".to_string())?;
            let password = String::from_utf8(plain.as_ref().to_vec())
                .map_err(|_| format!("{KEY_FILE} does not hold a key coffer wrapped"))?;
            Ok((password, out.key_id().unwrap_or_default().to_string()))
        })
    })
}

/// The repository key at `location`, unwrapped with KMS; `None` when the repository has no
/// wrapped key. `key_arn` (the vault's key) picks the KMS region.
pub fn unwrap(location: &Location, key_arn: &str) -> Result<Option<String>, String> {
    let Some(blob) = RawFiles::of(location)?.read(KEY_FILE)? else {
        return Ok(None);
    };
    unwrap_blob(key_arn, blob).map(|(p, _)| Some(p))
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapped {
    /// A new key was generated and wrapped.
    Created,
    /// The key was wrapped with another KMS key and is now wrapped with the vault's.
    Rewrapped,
    /// It was wrapped with the vault's key already.
    Unchanged,
    /// An existing repository's key (given) is now kept wrapped beside it.
    Adopted,
}

/// Makes sure the repository at `location` has its key wrapped with `key_arn`, and returns
/// the key: a key wrapped with another KMS key is unwrapped and wrapped again in place; a
/// repository without a wrapped key gets what `existing` says (the key an existing repository
/// was made with, asked only then) or a new random key.
pub fn ensure(
    location: &Location,
    key_arn: &str,
    existing: impl FnOnce() -> Result<Option<String>, String>,
) -> Result<(String, Wrapped), String> {
    let files = RawFiles::of(location)?;
    if let Some(blob) = files.read(KEY_FILE)? {
        let (password, wrapped_by) = unwrap_blob(key_arn, blob)?;
        if wrapped_by == key_id(key_arn)? {
            return Ok((password, Wrapped::Unchanged));
        }
        files.write(KEY_FILE, wrap(key_arn, &password)?)?;
        return Ok((password, Wrapped::Rewrapped));
    }
    let (password, how) = match existing()? {
        Some(p) => (p, Wrapped::Adopted),
        None => {
            // 256 random bits from the OS's generator, as text restic takes as a password
            let random = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            (random, Wrapped::Created)
        }
    };
    files.write(KEY_FILE, wrap(key_arn, &password)?)?;
    Ok((password, how))
}

/// The ARN of the key `key_arn` names (an alias ARN names another key's).
fn key_id(key_arn: &str) -> Result<String, String> {
    if !key_arn.contains(":alias/") {
        return Ok(key_arn.to_string());
    }
    let key = key_arn.to_string();
    with_kms(region_of(key_arn)?, move |kms| {
        Box::pin(async move {
            let out = kms.describe_key().key_id(&key).send().await.map_err(|e| {
                kms_error(
                    "kms:DescribeKey",
                    &key,
                    aws_sdk_kms::error::DisplayErrorContext(e),
                )
            })?;
            out.key_metadata()
                .and_then(|m| m.arn())
                .map(str::to_string)
                .ok_or_else(|| format!("kms:DescribeKey named no key for {key}"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_arn_names_its_region() {
        assert_eq!(
            region_of("arn:aws:kms:eu-west-1:111122223333:key/abc").unwrap(),
            "eu-west-1"
        );
        assert!(region_of("arn:aws:kms::1:key/abc").is_err());
    }
}
