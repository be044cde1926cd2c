//! Product, variation and stock operations.

use ::http::Method;
use uuid::Uuid;

use super::paging::collect_pages;
use super::{BeyondClient, Listing, PageRequest};
use crate::error::BeyondError;
use crate::model::{
    AdjustAvailableStock, Availability, CreateProduct, EnableStockManagement, Page, Product,
    Variation,
};
use crate::retry::RequestSafety;

/// Page size used to read all variations of a product.
const VARIATIONS_PAGE_SIZE: u64 = 100;

impl BeyondClient {
    /// `GET /products/search/find-by-sku?sku=` (`prod:r`). `None` when no product has
    /// this SKU (404). Whether it resolves variation SKUs is undocumented; use
    /// [`BeyondClient::all_variations`] for those.
    pub async fn find_product_by_sku(&self, sku: &str) -> Result<Option<Product>, BeyondError> {
        let mut url = self.url(&["products", "search", "find-by-sku"])?;
        url.query_pairs_mut().append_pair("sku", sku);
        match self.get_json("find-product-by-sku", url).await {
            Ok(product) => Ok(Some(product)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `GET /products/{id}` (`prod:r`).
    pub async fn get_product(&self, product_id: Uuid) -> Result<Product, BeyondError> {
        let url = self.url(&["products", &product_id.to_string()])?;
        self.get_json("get-product", url).await
    }

    /// `GET /products` (`prod:r`): one page.
    pub async fn list_products(&self, paging: &PageRequest) -> Result<Page<Product>, BeyondError> {
        let mut url = self.url(&["products"])?;
        paging.append_to(&mut url);
        self.get_json("list-products", url).await
    }

    /// `POST /products` (`prod:c`). UNSAFE.
    pub async fn create_product(&self, body: &CreateProduct) -> Result<Product, BeyondError> {
        let url = self.url(&["products"])?;
        self.send_json(
            "create-product",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `GET /products/{id}/variations` (`prod:r`): one page.
    pub async fn list_variations(
        &self,
        product_id: Uuid,
        paging: &PageRequest,
    ) -> Result<Page<Variation>, BeyondError> {
        let mut url = self.url(&["products", &product_id.to_string(), "variations"])?;
        paging.append_to(&mut url);
        self.get_json("list-variations", url).await
    }

    /// Every variation of a variation product, all pages.
    pub async fn all_variations(
        &self,
        product_id: Uuid,
    ) -> Result<Listing<Variation>, BeyondError> {
        collect_pages(
            "list-variations",
            0,
            |v: &Variation| v.id,
            |page| async move {
                self.list_variations(product_id, &PageRequest::new(page, VARIATIONS_PAGE_SIZE))
                    .await
            },
        )
        .await
    }

    /// `GET /products/{id}/availability` (`prda:r`).
    pub async fn product_availability(
        &self,
        product_id: Uuid,
    ) -> Result<Availability, BeyondError> {
        let url = self.url(&["products", &product_id.to_string(), "availability"])?;
        self.get_json("get-product-availability", url).await
    }

    /// `GET /products/{id}/variations/{vid}/availability` (`prda:r`).
    pub async fn variation_availability(
        &self,
        product_id: Uuid,
        variation_id: Uuid,
    ) -> Result<Availability, BeyondError> {
        let url = self.variation_availability_url(product_id, variation_id, None)?;
        self.get_json("get-variation-availability", url).await
    }

    /// `POST /products/{id}/availability/adjust-available-stock` (`prda:u`). UNSAFE: the
    /// change is relative, a repeat applies it twice. 409
    /// `product.availability.invalid-availability-state` when stock is unmanaged; 400
    /// `operation-not-available` on a variation parent.
    pub async fn adjust_product_stock(
        &self,
        product_id: Uuid,
        relative_amount: i64,
    ) -> Result<Availability, BeyondError> {
        let url = self.url(&[
            "products",
            &product_id.to_string(),
            "availability",
            "adjust-available-stock",
        ])?;
        self.send_json(
            "adjust-product-stock",
            Method::POST,
            url,
            Some(&AdjustAvailableStock { relative_amount }),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `POST /products/{id}/variations/{vid}/availability/adjust-available-stock`. UNSAFE.
    pub async fn adjust_variation_stock(
        &self,
        product_id: Uuid,
        variation_id: Uuid,
        relative_amount: i64,
    ) -> Result<Availability, BeyondError> {
        let url = self.variation_availability_url(
            product_id,
            variation_id,
            Some("adjust-available-stock"),
        )?;
        self.send_json(
            "adjust-variation-stock",
            Method::POST,
            url,
            Some(&AdjustAvailableStock { relative_amount }),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `POST /products/{id}/availability/enable-stock-management` (`prda:u`), for a
    /// product or a variation product. REPEATABLE: a repeat fails with 409.
    pub async fn enable_stock_management(
        &self,
        product_id: Uuid,
        body: &EnableStockManagement,
    ) -> Result<Availability, BeyondError> {
        let url = self.url(&[
            "products",
            &product_id.to_string(),
            "availability",
            "enable-stock-management",
        ])?;
        self.send_json(
            "enable-stock-management",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Repeatable,
        )
        .await
    }

    /// `POST /products/{id}/availability/disable-stock-management` (`prda:u`).
    /// REPEATABLE: a repeat fails with 409.
    pub async fn disable_stock_management(
        &self,
        product_id: Uuid,
    ) -> Result<Availability, BeyondError> {
        let url = self.url(&[
            "products",
            &product_id.to_string(),
            "availability",
            "disable-stock-management",
        ])?;
        self.send_json::<(), _>(
            "disable-stock-management",
            Method::POST,
            url,
            None,
            RequestSafety::Repeatable,
        )
        .await
    }

    fn variation_availability_url(
        &self,
        product_id: Uuid,
        variation_id: Uuid,
        action: Option<&str>,
    ) -> Result<url::Url, BeyondError> {
        let product = product_id.to_string();
        let variation = variation_id.to_string();
        let mut segments = vec![
            "products",
            product.as_str(),
            "variations",
            variation.as_str(),
            "availability",
        ];
        segments.extend(action);
        self.url(&segments)
    }
}
