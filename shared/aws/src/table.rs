//! A DynamoDB table handle with the conditional-write plumbing every adapter shares.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::attr::{Item, s};
use super::error::sdk_error;
use super::keys::{PK, SK};
use connector::ports::StoreError;

#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) client: Client,
    pub(crate) name: String,
}

/// The result of a conditional write: done, or refused with the item as it was.
pub(crate) enum Conditional<T> {
    Done(T),
    /// `None` when no item exists. Comes from `ReturnValuesOnConditionCheckFailure=ALL_OLD`,
    /// or from a consistent read when the service did not return the item.
    Refused(Option<Item>),
}

/// Write errors that can be a conditional-check failure carrying the old item.
pub(crate) trait ConditionalError:
    ProvideErrorMetadata + std::error::Error + Send + Sync + Sized + 'static
{
    fn is_refusal(&self) -> bool;
    /// The old item of a conditional-check failure (`None` for other errors).
    fn refused_item(self) -> Option<Item>;
}

macro_rules! conditional_error {
    ($error:ty, $variant:path) => {
        impl ConditionalError for $error {
            fn is_refusal(&self) -> bool {
                matches!(self, $variant(_))
            }

            fn refused_item(self) -> Option<Item> {
                match self {
                    $variant(failure) => failure.item,
                    _ => None,
                }
            }
        }
    };
}

conditional_error!(PutItemError, PutItemError::ConditionalCheckFailedException);
conditional_error!(
    UpdateItemError,
    UpdateItemError::ConditionalCheckFailedException
);
conditional_error!(
    DeleteItemError,
    DeleteItemError::ConditionalCheckFailedException
);

impl Table {
    pub(crate) fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
        Item::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
    }

    /// A strongly consistent read of one item.
    pub(crate) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(output.item)
    }

    /// Interprets a conditional write's result. When the refusal carries no item (older
    /// emulators ignore `ReturnValuesOnConditionCheckFailure`), the item is read instead.
    pub(crate) async fn conditional<T, E>(
        &self,
        operation: &'static str,
        key: &Item,
        result: Result<T, SdkError<E, HttpResponse>>,
    ) -> Result<Conditional<T>, StoreError>
    where
        E: ConditionalError,
    {
        match result {
            Ok(output) => Ok(Conditional::Done(output)),
            Err(SdkError::ServiceError(context)) if context.err().is_refusal() => {
                match context.into_err().refused_item() {
                    Some(item) => Ok(Conditional::Refused(Some(item))),
                    None => Ok(Conditional::Refused(self.get(key.clone()).await?)),
                }
            }
            Err(other) => Err(sdk_error(operation, other)),
        }
    }
}
