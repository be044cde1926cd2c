//! Turns SDK errors into [`StoreError`], classifying what is worth retrying.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use connector::ports::StoreError;

/// Service error codes that mean "slow down or try again", across DynamoDB, SQS and
/// Secrets Manager.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "TooManyRequestsException",
    "InternalServerError",
    "InternalFailure",
    "InternalServiceError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "KMSThrottlingException",
    "AWS.SimpleQueueService.ServiceUnavailable",
];

pub(crate) fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
}

pub(crate) fn sdk_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, transient) = match &err {
        SdkError::TimeoutError(_) => ("timeout".to_owned(), true),
        SdkError::DispatchFailure(failure) => (
            "dispatch".to_owned(),
            failure.is_timeout() || failure.is_io(),
        ),
        SdkError::ResponseError(_) => ("response".to_owned(), true),
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let code = context.err().code().unwrap_or("unknown").to_owned();
            let transient = status >= 500 || status == 429 || is_transient_code(&code);
            (code, transient)
        }
        SdkError::ConstructionFailure(_) => ("construction".to_owned(), false),
        _ => ("unknown".to_owned(), false),
    };
    StoreError::Backend {
        operation,
        code,
        message: DisplayErrorContext(&err).to_string(),
        transient,
        source: Box::new(err),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn service_error(status: u16, code: &str) -> StoreError {
        let error = GetItemError::generic(ErrorMetadata::builder().code(code).build());
        let status = status.try_into().expect("a valid status");
        let raw = HttpResponse::new(status, SdkBody::empty());
        sdk_error("GetItem", SdkError::service_error(error, raw))
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        assert!(service_error(400, "ThrottlingException").is_transient());
        assert!(service_error(400, "ProvisionedThroughputExceededException").is_transient());
        assert!(service_error(500, "InternalServerError").is_transient());
        assert!(service_error(503, "Whatever").is_transient());
        assert!(service_error(429, "TooManyRequests").is_transient());
        let timeout: SdkError<GetItemError, HttpResponse> =
            SdkError::timeout_error("operation timed out");
        assert!(sdk_error("GetItem", timeout).is_transient());
    }

    #[test]
    fn client_errors_are_permanent_and_keep_their_code_and_source() {
        let error = service_error(400, "ValidationException");
        assert!(!error.is_transient());
        match &error {
            StoreError::Backend {
                code, operation, ..
            } => {
                assert_eq!(
                    (code.as_str(), *operation),
                    ("ValidationException", "GetItem")
                );
            }
            other => panic!("expected Backend, got {other:?}"),
        }
        assert!(std::error::Error::source(&error).is_some());
    }
}
