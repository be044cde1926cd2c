//! Typed query strings: paging, sorting, and the order filters of `GET /orders`.

use url::Url;

use crate::model::{BeyondTimestamp, OrderPaymentStatus, OrderShippingStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

/// `sort=property[,asc|desc]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub property: String,
    pub direction: Option<SortDirection>,
}

impl Sort {
    pub fn asc(property: impl Into<String>) -> Self {
        Self {
            property: property.into(),
            direction: Some(SortDirection::Asc),
        }
    }

    pub fn desc(property: impl Into<String>) -> Self {
        Self {
            property: property.into(),
            direction: Some(SortDirection::Desc),
        }
    }

    fn to_query(&self) -> String {
        match self.direction {
            None => self.property.clone(),
            Some(SortDirection::Asc) => format!("{},asc", self.property),
            Some(SortDirection::Desc) => format!("{},desc", self.property),
        }
    }
}

/// `page` (0-based), `size`, `sort`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub page: Option<u64>,
    pub size: Option<u64>,
    pub sort: Option<Sort>,
}

impl PageRequest {
    pub fn new(page: u64, size: u64) -> Self {
        Self {
            page: Some(page),
            size: Some(size),
            sort: None,
        }
    }

    pub(crate) fn append_to(&self, url: &mut Url) {
        let mut pairs = Vec::new();
        if let Some(page) = self.page {
            pairs.push(("page".to_owned(), page.to_string()));
        }
        if let Some(size) = self.size {
            pairs.push(("size".to_owned(), size.to_string()));
        }
        if let Some(sort) = &self.sort {
            pairs.push(("sort".to_owned(), sort.to_query()));
        }
        append_pairs(url, pairs);
    }
}

/// Filters of `GET /orders` (beyond-api.md §3.1). Time filters take Beyond's no-offset
/// ISO 8601 form, which [`BeyondTimestamp`] writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    pub created_after: Option<BeyondTimestamp>,
    pub created_before: Option<BeyondTimestamp>,
    /// The incremental-polling filter.
    pub updated_after: Option<BeyondTimestamp>,
    pub updated_before: Option<BeyondTimestamp>,
    pub order_number: Option<String>,
    pub payment_status: Option<OrderPaymentStatus>,
    pub shipping_status: Option<OrderShippingStatus>,
    pub canceled: Option<bool>,
    pub test_order: Option<bool>,
    pub customer_email: Option<String>,
    pub product_id: Option<String>,
    /// Any other documented filter, e.g. `("shippingAddressCountry", "DE")`.
    pub other_filters: Vec<(String, String)>,
    pub paging: PageRequest,
}

impl OrderQuery {
    /// Orders updated after `since`.
    pub fn updated_after(since: BeyondTimestamp) -> Self {
        Self {
            updated_after: Some(since),
            ..Self::default()
        }
    }

    pub(crate) fn append_to(&self, url: &mut Url) {
        let mut pairs: Vec<(String, String)> = Vec::new();
        {
            let timestamps = [
                ("createdAfter", &self.created_after),
                ("createdBefore", &self.created_before),
                ("updatedAfter", &self.updated_after),
                ("updatedBefore", &self.updated_before),
            ];
            for (name, value) in timestamps {
                if let Some(value) = value {
                    pairs.push((name.to_owned(), value.to_wire()));
                }
            }
            let texts = [
                ("orderNumber", self.order_number.as_deref()),
                (
                    "paymentStatus",
                    self.payment_status.as_ref().map(|s| s.as_str()),
                ),
                (
                    "shippingStatus",
                    self.shipping_status.as_ref().map(|s| s.as_str()),
                ),
                ("customerEmail", self.customer_email.as_deref()),
                ("productId", self.product_id.as_deref()),
            ];
            for (name, value) in texts {
                if let Some(value) = value {
                    pairs.push((name.to_owned(), value.to_owned()));
                }
            }
            for (name, value) in [("canceled", self.canceled), ("testOrder", self.test_order)] {
                if let Some(value) = value {
                    pairs.push((name.to_owned(), value.to_string()));
                }
            }
            pairs.extend(self.other_filters.iter().cloned());
        }
        append_pairs(url, pairs);
        self.paging.append_to(url);
    }
}

/// Appends query pairs; leaves the URL without a bare `?` when there are none.
pub(crate) fn append_pairs(url: &mut Url, pairs: Vec<(String, String)>) {
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_query_writes_beyond_parameters() {
        let mut url = Url::parse("http://shop/api/orders").unwrap();
        let query = OrderQuery {
            updated_after: Some("2020-11-29T11:32:00".parse().unwrap()),
            shipping_status: Some(OrderShippingStatus::Unshipped),
            canceled: Some(false),
            other_filters: vec![("shippingAddressCountry".into(), "DE".into())],
            paging: PageRequest {
                page: Some(2),
                size: Some(50),
                sort: Some(Sort::asc("createdAt")),
            },
            ..OrderQuery::default()
        };
        query.append_to(&mut url);
        assert_eq!(
            url.query(),
            Some(
                "updatedAfter=2020-11-29T11%3A32%3A00.000&shippingStatus=UNSHIPPED&canceled=false\
                 &shippingAddressCountry=DE&page=2&size=50&sort=createdAt%2Casc"
            )
        );
    }

    #[test]
    fn empty_query_adds_nothing() {
        let mut url = Url::parse("http://shop/api/orders").unwrap();
        OrderQuery::default().append_to(&mut url);
        assert_eq!(url.as_str(), "http://shop/api/orders");
    }
}
