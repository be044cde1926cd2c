//! Order operations: reads, processes (shipping, pickup, cancel, return), payments.

use ::http::Method;
use uuid::Uuid;

use super::paging::collect_pages;
use super::{BeyondClient, Listing, OrderQuery, PageRequest};
use crate::error::BeyondError;
use crate::model::{
    CancelOrder, CancelProcess, CreateCancelProcess, CreateOrder, CreatePickupProcess,
    CreateReturnProcess, CreateShippingProcess, Dated, MarkDelivered, MarkPaid, MarkPickedUp,
    MarkShipped, Order, OrderEvent, OrderProcesses, Page, PaymentProcess, PickupProcess,
    ReturnProcess, ShippingProcess,
};
use crate::retry::RequestSafety;

/// Page size `all_orders` and `all_order_events` use when the query sets none. The
/// maximum is undocumented; the official SDK reads "all" with 200, we stay below.
pub const DEFAULT_ALL_PAGE_SIZE: u64 = 100;

impl BeyondClient {
    /// `GET /orders` (`ordr:r`): one page.
    pub async fn list_orders(&self, query: &OrderQuery) -> Result<Page<Order>, BeyondError> {
        let mut url = self.url(&["orders"])?;
        query.append_to(&mut url);
        self.get_json("list-orders", url).await
    }

    /// Every order matching `query`, from `query.paging.page` (default 0) to the real
    /// end; see [`Listing`] and the paging module for what happens when orders change
    /// while they are read. For a stable read, sort by an immutable property
    /// (`Sort::asc("createdAt")`).
    pub async fn all_orders(&self, query: &OrderQuery) -> Result<Listing<Order>, BeyondError> {
        let mut query = query.clone();
        query.paging.size = Some(query.paging.size.unwrap_or(DEFAULT_ALL_PAGE_SIZE));
        let first = query.paging.page.unwrap_or(0);
        collect_pages(
            "list-orders",
            first,
            |order: &Order| order.id,
            |page| {
                let mut query = query.clone();
                query.paging.page = Some(page);
                async move { self.list_orders(&query).await }
            },
        )
        .await
    }

    /// `GET /orders/{id}` (`ordr:r`).
    pub async fn get_order(&self, order_id: Uuid) -> Result<Order, BeyondError> {
        Ok(self.get_order_dated(order_id).await?.value)
    }

    /// `GET /orders/{id}` with the answer's `Date`, to learn the shop's clock from
    /// (`model::shop_offset`).
    pub async fn get_order_dated(&self, order_id: Uuid) -> Result<Dated<Order>, BeyondError> {
        let url = self.url(&["orders", &order_id.to_string()])?;
        self.get_json_dated("get-order", url).await
    }

    /// `GET /orders/{id}/events` (`orde:r`): one page, newest first.
    pub async fn order_events(
        &self,
        order_id: Uuid,
        paging: &PageRequest,
    ) -> Result<Page<OrderEvent>, BeyondError> {
        let mut url = self.url(&["orders", &order_id.to_string(), "events"])?;
        paging.append_to(&mut url);
        self.get_json("order-events", url).await
    }

    /// Every event of an order. Events have no `_id`; they are de-duplicated on
    /// (type, createdAt, details) instead.
    pub async fn all_order_events(
        &self,
        order_id: Uuid,
    ) -> Result<Listing<OrderEvent>, BeyondError> {
        let identity = |event: &OrderEvent| {
            let key = serde_json::to_vec(&(
                event.kind.as_str(),
                event.created_at.map(|t| t.to_wire()),
                &event.details,
            ))
            .unwrap_or_default();
            Uuid::new_v5(&Uuid::NAMESPACE_OID, &key)
        };
        collect_pages("order-events", 0, identity, |page| async move {
            self.order_events(order_id, &PageRequest::new(page, DEFAULT_ALL_PAGE_SIZE))
                .await
        })
        .await
    }

    /// `GET /orders/{id}/processes` (`ordp:r`): all processes of the order.
    pub async fn order_processes(&self, order_id: Uuid) -> Result<OrderProcesses, BeyondError> {
        let url = self.url(&["orders", &order_id.to_string(), "processes"])?;
        self.get_json("order-processes", url).await
    }

    /// `POST /orders/{id}/processes/shippings` (`shpr:c`). UNSAFE: creates a process.
    /// 400 `cannot-create-shipping-process` when the items are no longer unshipped or the
    /// order is a pickup order; 409 `no-such-product-line-item`.
    pub async fn create_shipping_process(
        &self,
        order_id: Uuid,
        body: &CreateShippingProcess,
    ) -> Result<ShippingProcess, BeyondError> {
        let url = self.url(&["orders", &order_id.to_string(), "processes", "shippings"])?;
        self.send_json(
            "create-shipping-process",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `POST …/shippings/{id}/mark-shipped` (`shpr:u`). REPEATABLE.
    pub async fn mark_shipped(
        &self,
        order_id: Uuid,
        shipping_process_id: Uuid,
        body: &MarkShipped,
    ) -> Result<ShippingProcess, BeyondError> {
        let url = self.shipping_process_url(order_id, shipping_process_id, "mark-shipped")?;
        self.send_json(
            "mark-shipped",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Repeatable,
        )
        .await
    }

    /// `POST …/shippings/{id}/mark-delivered` (`shpr:u`). REPEATABLE.
    pub async fn mark_delivered(
        &self,
        order_id: Uuid,
        shipping_process_id: Uuid,
        body: &MarkDelivered,
    ) -> Result<ShippingProcess, BeyondError> {
        let url = self.shipping_process_url(order_id, shipping_process_id, "mark-delivered")?;
        self.send_json(
            "mark-delivered",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Repeatable,
        )
        .await
    }

    fn shipping_process_url(
        &self,
        order_id: Uuid,
        process_id: Uuid,
        action: &str,
    ) -> Result<url::Url, BeyondError> {
        self.url(&[
            "orders",
            &order_id.to_string(),
            "processes",
            "shippings",
            &process_id.to_string(),
            action,
        ])
    }

    /// `POST /orders/{id}/processes/pickups`: the whole order. UNSAFE (although a second
    /// one fails with 409 `pickup-process-already-exists`).
    pub async fn create_pickup_process(
        &self,
        order_id: Uuid,
        body: &CreatePickupProcess,
    ) -> Result<PickupProcess, BeyondError> {
        let url = self.url(&["orders", &order_id.to_string(), "processes", "pickups"])?;
        self.send_json(
            "create-pickup-process",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `POST …/pickups/{id}/mark-picked-up` (`shpr:u`). REPEATABLE.
    pub async fn mark_picked_up(
        &self,
        order_id: Uuid,
        pickup_process_id: Uuid,
        body: &MarkPickedUp,
    ) -> Result<PickupProcess, BeyondError> {
        let url = self.url(&[
            "orders",
            &order_id.to_string(),
            "processes",
            "pickups",
            &pickup_process_id.to_string(),
            "mark-picked-up",
        ])?;
        self.send_json(
            "mark-picked-up",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Repeatable,
        )
        .await
    }

    /// `POST /orders/{id}/cancel` (`clpr:c`): cancels the whole order, answers with it.
    /// REPEATABLE: a canceled order cannot be canceled twice.
    pub async fn cancel_order(
        &self,
        order_id: Uuid,
        body: &CancelOrder,
    ) -> Result<Order, BeyondError> {
        Ok(self.cancel_order_dated(order_id, body).await?.value)
    }

    /// [`Self::cancel_order`] with the answer's `Date`: the order in it changed just now.
    pub async fn cancel_order_dated(
        &self,
        order_id: Uuid,
        body: &CancelOrder,
    ) -> Result<Dated<Order>, BeyondError> {
        let url = self.url(&["orders", &order_id.to_string(), "cancel"])?;
        self.send_json_dated(
            "cancel-order",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Repeatable,
        )
        .await
    }

    /// `POST /orders/{id}/processes/cancelations` (`clpr:c`): a partial cancelation,
    /// which triggers a refund. UNSAFE. 409 `cancel-process-partial-refund-not-allowed`
    /// for `FULL_REFUND_ONLY` payment methods.
    pub async fn create_cancel_process(
        &self,
        order_id: Uuid,
        body: &CreateCancelProcess,
    ) -> Result<CancelProcess, BeyondError> {
        let url = self.url(&["orders", &order_id.to_string(), "processes", "cancelations"])?;
        self.send_json(
            "create-cancel-process",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `POST /orders/{id}/processes/returns` (`rtpr:c`), which triggers a refund. UNSAFE.
    pub async fn create_return_process(
        &self,
        order_id: Uuid,
        body: &CreateReturnProcess,
    ) -> Result<ReturnProcess, BeyondError> {
        let url = self.url(&["orders", &order_id.to_string(), "processes", "returns"])?;
        self.send_json(
            "create-return-process",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `POST /orders/{id}/processes/payments/active/mark-paid` (`pypr:u`). UNSAFE: a
    /// partial amount repeated would be booked twice.
    pub async fn mark_payment_paid(
        &self,
        order_id: Uuid,
        body: &MarkPaid,
    ) -> Result<PaymentProcess, BeyondError> {
        let url = self.url(&[
            "orders",
            &order_id.to_string(),
            "processes",
            "payments",
            "active",
            "mark-paid",
        ])?;
        self.send_json(
            "mark-payment-paid",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }

    /// `POST /orders` (`ordr:c`). UNSAFE.
    pub async fn create_order(&self, body: &CreateOrder) -> Result<Order, BeyondError> {
        let url = self.url(&["orders"])?;
        self.send_json(
            "create-order",
            Method::POST,
            url,
            Some(body),
            RequestSafety::Unsafe,
        )
        .await
    }
}
