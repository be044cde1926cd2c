//! Paged reads with an opaque continuation token.

use serde::{Deserialize, Serialize};

use super::StoreError;

/// Where the next page starts. Opaque: only the store that issued it can read it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageToken(pub String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items are returned (a page may hold fewer and still have a next).
    pub limit: u32,
    pub token: Option<PageToken>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self { limit, token: None }
    }

    pub fn after(limit: u32, token: PageToken) -> Self {
        Self {
            limit,
            token: Some(token),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `None` on the last page.
    pub next: Option<PageToken>,
}

/// The largest page any store returns; larger requests are refused rather than silently cut.
pub const MAX_PAGE: u32 = 1000;

pub fn check_page(page: &PageRequest) -> Result<usize, StoreError> {
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(StoreError::invalid(
            "page limit",
            format!("{} is not within 1..={MAX_PAGE}", page.limit),
        ));
    }
    Ok(page.limit as usize)
}
