//! Turns SDK errors into [`StoreError`], classifying what is worth retrying.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::ports::StoreError;

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
