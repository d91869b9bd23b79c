//! AWS errors in words a user can act on: missing or rejected credentials, an unknown
//! region, an unreachable endpoint, and refused API calls naming the IAM action.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS credentials found for region {region}\n  coffer uses the standard credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the provider's `profile`, SSO, or an instance role.\n  ({detail})")]
    NoCredentials { region: String, detail: String },
    #[error("AWS rejected the credentials in region {region} ({code}): {message}\n  Check that the keys or profile are current and belong to the right account.")]
    BadCredentials {
        region: String,
        code: String,
        message: String,
    },
    #[error("unknown AWS region `{region}`\n  Set `region` in the provider \"aws\" block to a region such as us-east-1, or point AWS_ENDPOINT_URL at a local endpoint.")]
    UnknownRegion { region: String },
    #[error("cannot reach the AWS endpoint for {service} in {region}: {detail}\n  Check the network, a proxy, or AWS_ENDPOINT_URL if you use LocalStack or moto.")]
    Unreachable {
        service: &'static str,
        region: String,
        detail: String,
    },
    #[error("access denied: {api} in {region} was refused ({code}: {message})\n  Allow the IAM action `{action}` for the identity coffer runs as.")]
    AccessDenied {
        api: &'static str,
        action: &'static str,
        region: String,
        code: String,
        message: String,
    },
    #[error("{api} in {region} failed: {code}: {message}")]
    Service {
        api: &'static str,
        region: String,
        code: String,
        message: String,
    },
}

/// Error codes that mean "not now": throttling, server trouble, or a resource busy with
/// another operation. Jobs retry these with backoff inside their window.
const TRANSIENT_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "TooManyRequestsException",
    "SnapshotCreationPerVolumeRateExceeded",
    "ThrottledException",
    "RequestThrottledException",
    "EC2ThrottledException",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "Unavailable",
    // an answer that was cut short, or a 5xx with no code a client knows
    "IncompleteResponse",
    "ServerError",
    "InvalidDBInstanceState",
    "InvalidDBInstanceStateFault",
    "InvalidDBClusterStateFault",
    "IncorrectState",
    "ConcurrentSnapshotLimitExceeded",
    // the request's clock was off: the SDK corrects its skew before trying again
    "RequestTimeTooSkewed",
];

/// Error codes that mean the credentials themselves were refused (expired, revoked, or not
/// the account's): nothing succeeds until they are renewed.
const CREDENTIAL_CODES: &[&str] = &[
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidAccessKeyId",
    "InvalidToken",
];

/// Whether AWS's error `code` means "not now" (throttling, server trouble, a busy
/// resource): the one list every AWS and S3 caller in coffer retries by.
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
}

/// Whether AWS's error `code` means the credentials were refused.
pub fn is_credential_code(code: &str) -> bool {
    CREDENTIAL_CODES.contains(&code)
}

impl AwsError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            AwsError::Unreachable { .. } => true,
            AwsError::Service { code, .. } => is_transient_code(code),
            _ => false,
        }
    }

    /// The error code AWS returned, if it returned one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. }
            | AwsError::AccessDenied { code, .. }
            | AwsError::BadCredentials { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The error with a hint for the failures a backup job commonly meets.
    pub fn with_hint(&self) -> String {
        let hint = match self.code().unwrap_or_default() {
            "SnapshotQuotaExceeded" | "SnapshotLimitExceeded" | "ResourceLimitExceeded" => {
                Some("the account's snapshot quota is full: delete old snapshots or ask AWS for a higher quota")
            }
            "InvalidVolume.NotFound" | "InvalidInstanceID.NotFound" | "DBInstanceNotFound"
            | "DBInstanceNotFoundFault" | "DBClusterNotFoundFault" => {
                Some("the resource no longer exists; its selection will stop covering it at the next discovery")
            }
            c if c.starts_with("KMS") || c.contains("Kms") || c.contains("KMS") => {
                Some("the resource's KMS key is not usable by coffer: check that it is enabled and that its key policy allows coffer's identity")
            }
            _ => None,
        };
        match hint {
            Some(h) => format!("{self}\n  {h}"),
            None => self.to_string(),
        }
    }
}

/// AWS's public regions, to tell a typo from a region that exists (custom endpoints skip this).
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// One API call, for messages: its name, its IAM action and its service.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub api: &'static str,
    pub action: &'static str,
    pub service: &'static str,
}

/// Turns an SDK error into an [`AwsError`].
pub fn classify<E>(
    call: Call,
    region: &str,
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = DisplayErrorContext(err).to_string();
    let region = region.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("credential")
        && (lower.contains("no credentials")
            || lower.contains("provider chain")
            || lower.contains("could not load credentials")
            || lower.contains("failed to load credentials"))
    {
        return AwsError::NoCredentials {
            region,
            detail: text,
        };
    }
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            // a gateway's bare 502 or 503 carries no code; a 5xx is the server's trouble
            let fallback = if status >= 500 {
                "ServerError"
            } else {
                "Unknown"
            };
            let code = err.code().unwrap_or(fallback).to_string();
            let message = err.message().unwrap_or("").to_string();
            match code.as_str() {
                "UnauthorizedOperation"
                | "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedAccess"
                | "Forbidden" => AwsError::AccessDenied {
                    api: call.api,
                    action: call.action,
                    region,
                    code,
                    message,
                },
                c if is_credential_code(c) => AwsError::BadCredentials {
                    region,
                    code,
                    message,
                },
                _ => AwsError::Service {
                    api: call.api,
                    region,
                    code,
                    message,
                },
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            let dns = ["dns", "failed to lookup", "name or service not known"]
                .iter()
                .any(|m| lower.contains(m));
            if dns && !KNOWN_REGIONS.contains(&region.as_str()) {
                return AwsError::UnknownRegion { region };
            }
            AwsError::Unreachable {
                service: call.service,
                region,
                detail: text,
            }
        }
        // the answer was cut short or could not be read: whether the call took effect is
        // unknown, so it is tried again (after looking for what it made)
        SdkError::ResponseError(_) => AwsError::Service {
            api: call.api,
            region,
            code: "IncompleteResponse".into(),
            message: text,
        },
        _ => AwsError::Service {
            api: call.api,
            region,
            code: "ClientError".into(),
            message: text,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::describe_volumes::DescribeVolumesError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(code: &str, status: u16) -> SdkError<DescribeVolumesError, Response> {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("you shall not pass")
            .build();
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(DescribeVolumesError::generic(meta), raw)
    }

    const CALL: Call = Call {
        api: "ec2:DescribeVolumes",
        action: "ec2:DescribeVolumes",
        service: "EC2",
    };

    #[test]
    fn access_denied_names_the_call_and_the_iam_action() {
        let e = classify(
            CALL,
            "us-east-1",
            &service_error("UnauthorizedOperation", 403),
        );
        let text = e.to_string();
        assert!(matches!(e, AwsError::AccessDenied { .. }), "{e:?}");
        assert!(
            text.contains("ec2:DescribeVolumes in us-east-1 was refused"),
            "{text}"
        );
        assert!(
            text.contains("Allow the IAM action `ec2:DescribeVolumes`"),
            "{text}"
        );
    }

    /// A 5xx with no code (a gateway's bare 502), each service's throttling code, and an
    /// answer cut short are all "not now" (issue 17's fault proxy injects each).
    #[test]
    fn server_errors_without_a_code_throttling_and_cut_answers_are_transient() {
        let bare = SdkError::service_error(
            DescribeVolumesError::generic(ErrorMetadata::builder().build()),
            Response::new(StatusCode::try_from(502).unwrap(), SdkBody::empty()),
        );
        assert!(classify(CALL, "us-east-1", &bare).is_transient());
        for code in [
            "SlowDown",
            "ThrottlingException",
            "Throttling",
            "InternalServerError",
        ] {
            assert!(
                classify(CALL, "us-east-1", &service_error(code, 400)).is_transient(),
                "{code}"
            );
        }
        let cut: SdkError<DescribeVolumesError, Response> = SdkError::response_error(
            "unexpected end of body",
            Response::new(StatusCode::try_from(200).unwrap(), SdkBody::empty()),
        );
        assert!(classify(CALL, "us-east-1", &cut).is_transient());
        let unknown_4xx = SdkError::service_error(
            DescribeVolumesError::generic(ErrorMetadata::builder().build()),
            Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()),
        );
        assert!(!classify(CALL, "us-east-1", &unknown_4xx).is_transient());
    }

    #[test]
    fn throttling_is_transient_and_quota_errors_carry_a_hint() {
        let throttled = classify(
            CALL,
            "us-east-1",
            &service_error("RequestLimitExceeded", 503),
        );
        assert!(throttled.is_transient());
        let full = classify(
            CALL,
            "us-east-1",
            &service_error("SnapshotQuotaExceeded", 400),
        );
        assert!(!full.is_transient());
        assert!(
            full.with_hint().contains("snapshot quota is full"),
            "{}",
            full.with_hint()
        );
        assert!(!classify(
            CALL,
            "us-east-1",
            &service_error("UnauthorizedOperation", 403)
        )
        .is_transient());
    }

    #[test]
    fn rejected_credentials_and_other_service_errors() {
        assert!(matches!(
            classify(CALL, "us-east-1", &service_error("AuthFailure", 401)),
            AwsError::BadCredentials { .. }
        ));
        let e = classify(CALL, "us-east-1", &service_error("InternalError", 500));
        assert_eq!(
            e.to_string(),
            "ec2:DescribeVolumes in us-east-1 failed: InternalError: you shall not pass"
        );
    }
}
