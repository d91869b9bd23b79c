//! AWS access (effectful shell): SDK configuration per provider block, built with the
//! standard credential chain and honouring `AWS_ENDPOINT_URL` (and the per-service
//! variants), so the same binary runs against AWS, LocalStack or moto; errors in words; and
//! discovery of the resources coffer protects. What coffer does to each resource type is in
//! [`crate::providers::aws`].

pub mod discover;
pub mod error;

pub use discover::{discover, Discovery, Target};
pub use error::AwsError;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Loads SDK configuration for one provider block. Throttling and 5xx responses are retried
/// with exponential backoff (5 attempts) unless `AWS_MAX_ATTEMPTS` says otherwise. A block
/// with `assume_role` acts with the role's credentials, which STS gives for the block's own
/// (and renews before they expire).
pub async fn sdk_config(target: &Target) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(target.region.clone()));
    if let Some(p) = &target.profile {
        loader = loader.profile_name(p);
    }
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(5));
    }
    let base = loader.load().await;
    let Some(role) = &target.assume_role else {
        return base;
    };
    let mut assume = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(role.session_name.clone().unwrap_or_else(|| "coffer".into()))
        .configure(&base);
    if let Some(id) = &role.external_id {
        assume = assume.external_id(id.clone());
    }
    let credentials = assume.build().await;
    base.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .build()
}

/// Whether an endpoint override is configured (then any region name is allowed).
pub fn custom_endpoint() -> bool {
    std::env::vars_os().any(|(k, _)| {
        k.to_str()
            .is_some_and(|k| k == "AWS_ENDPOINT_URL" || k.starts_with("AWS_ENDPOINT_URL_"))
    })
}
