//! Every client operation against the sandbox, on the happy path.

use beyond::model::{
    AvailabilityState, CommentBody, CreateCancelProcess, CreateOrder, CreatePickupProcess,
    CreateProduct, CreateReturnProcess, CreateShippingProcess, CreateSubscription,
    EnableStockManagement, MarkPaid, MarkPaidDetails, MarkPickedUp, MarkShipped,
    MarkShippedDetails, Money, OrderEventType, OrderShippingStatus, PaymentProcessStatus,
    PickupProcessStatus, ProcessLineItem, ReturnLineItem, ReturnLineItemStatus,
    ShippingProcessStatus, WebhookEventType,
};
use beyond::{BeyondClient, OrderQuery, PageRequest, Sort, TokenEndpoint};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::support::{CLIENT_ID, CLIENT_SECRET, Fixture, SHOP, statuses};

#[tokio::test]
async fn client_credentials_token_is_fetched_once_and_reused() {
    let f = Fixture::start().await;
    for reference in ["new", "paid", "shipped"] {
        f.client.get_order(f.order(reference)).await.unwrap();
    }
    assert_eq!(f.journal("POST", "/oauth/token").len(), 1);
    assert_eq!(f.journal("GET", "/orders/*").len(), 3);
    // The counter sees every HTTP request, the token call included.
    assert_eq!(f.client.http_requests(), 4);
    assert_eq!(
        u64::try_from(f.journal_all().len()).unwrap(),
        f.client.http_requests()
    );
}

#[tokio::test]
async fn token_endpoint_grants_authorization_code_and_refresh() {
    let f = Fixture::start().await;
    let endpoint = TokenEndpoint::for_api_url(
        f.client.http().clone(),
        f.client.api_url(),
        CLIENT_ID,
        SecretString::from(CLIENT_SECRET),
    )
    .unwrap();

    let credentials = endpoint.client_credentials().await.unwrap();
    assert_eq!(credentials.token_type.as_deref(), Some("bearer"));
    assert!(credentials.expires_in.is_some());
    assert!(credentials.scope.contains("ordr:r"));

    let code = SecretString::from(f.sandbox.issue_authorization_code(SHOP).unwrap());
    let installed = endpoint.authorization_code(&code).await.unwrap();
    let refresh = installed.refresh_token.clone().expect("a refresh token");
    let refreshed = endpoint.refresh(&refresh).await.unwrap();
    let rotated = refreshed.refresh_token.expect("a new refresh token");
    assert_ne!(rotated.expose_secret(), refresh.expose_secret());
    assert_ne!(
        refreshed.access_token.expose_secret(),
        installed.access_token.expose_secret()
    );

    // Grants travel in the query string.
    let grants: Vec<String> = f
        .journal("POST", "/oauth/token")
        .iter()
        .filter_map(|entry| entry.query.clone())
        .collect();
    assert!(grants[0].contains("grant_type=client_credentials"));
    assert!(grants[1].contains("grant_type=authorization_code"));
    assert!(grants[2].contains("grant_type=refresh_token"));
}

#[tokio::test]
async fn lists_orders_to_the_real_end_with_filters() {
    let f = Fixture::start().await;
    let first = f.client.list_orders(&OrderQuery::default()).await.unwrap();
    let total = first.page.expect("page meta").total_elements;
    assert_eq!(total, 6);

    let query = OrderQuery {
        paging: PageRequest {
            page: None,
            size: Some(2),
            sort: Some(Sort::asc("createdAt")),
        },
        ..OrderQuery::default()
    };
    let listing = f.client.all_orders(&query).await.unwrap();
    assert_eq!(listing.items.len(), 6);
    assert_eq!(listing.pages_fetched, 3);
    assert!(!listing.changed_during_paging);
    let pages: Vec<String> = f
        .journal("GET", "/orders")
        .iter()
        .skip(1)
        .filter_map(|entry| entry.query.clone())
        .collect();
    assert_eq!(pages.len(), 3);
    assert!(pages[2].contains("page=2") && pages[2].contains("size=2"));

    let shipped = f
        .client
        .all_orders(&OrderQuery {
            shipping_status: Some(OrderShippingStatus::Shipped),
            ..OrderQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        shipped.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![f.order("shipped")]
    );
}

#[tokio::test]
async fn reads_an_order_its_events_and_processes() {
    let f = Fixture::start().await;
    let order = f.client.get_order(f.order("new")).await.unwrap();
    assert_eq!(order.product_line_items.len(), 2);
    assert_eq!(order.shipping_status, Some(OrderShippingStatus::Unshipped));
    let mug = order
        .product_line_items
        .iter()
        .find(|line| line.sku() == Some("MUG-001"))
        .expect("mug line");
    assert_eq!((mug.quantity, mug.unshipped_quantity()), (3, 3));

    let events = f
        .client
        .order_events(f.order("shipped"), &PageRequest::default())
        .await
        .unwrap();
    assert!(
        events
            .items()
            .iter()
            .any(|event| event.kind == OrderEventType::OrderCreated)
    );
    let all_events = f.client.all_order_events(f.order("shipped")).await.unwrap();
    assert_eq!(all_events.items.len(), events.items().len());

    let processes = f.client.order_processes(f.order("shipped")).await.unwrap();
    let shipping = &processes.embedded.shipping;
    assert_eq!(shipping.len(), 1);
    assert_eq!(shipping[0].status, ShippingProcessStatus::Shipped);
    assert_eq!(shipping[0].tracking_code.as_deref(), Some("TRACK-1"));
    assert!(!processes.embedded.payment.is_empty());
}

#[tokio::test]
async fn ships_and_delivers_with_tracking() {
    let f = Fixture::start().await;
    let order_id = f.order("paid");
    let order = f.client.get_order(order_id).await.unwrap();
    let line = &order.product_line_items[0];

    let created = f
        .client
        .create_shipping_process(
            order_id,
            &CreateShippingProcess {
                comment: Some("Afosto shipment 42".into()),
                send_mail: Some(false),
                line_items: vec![ProcessLineItem::new(line.id, 2)],
                ..CreateShippingProcess::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(created.status, ShippingProcessStatus::Pending);
    assert!(created.links.has("mark-shipped"));

    let shipped = f
        .client
        .mark_shipped(
            order_id,
            created.id,
            &MarkShipped {
                comment: None,
                details: Some(MarkShippedDetails {
                    send_mail: Some(true),
                    tracking_code: Some("TRACK-42".into()),
                    tracking_link: Some("https://track.example/TRACK-42".into()),
                }),
            },
        )
        .await
        .unwrap();
    assert_eq!(shipped.status, ShippingProcessStatus::Shipped);
    assert_eq!(shipped.tracking_code.as_deref(), Some("TRACK-42"));

    let delivered = f
        .client
        .mark_delivered(order_id, created.id, &CommentBody::new("At the door"))
        .await
        .unwrap();
    assert_eq!(delivered.status, ShippingProcessStatus::Delivered);

    let order = f.client.get_order(order_id).await.unwrap();
    assert_eq!(order.product_line_items[0].delivered_quantity(), 2);
    assert_eq!(order.shipping_status, Some(OrderShippingStatus::Delivered));
}

#[tokio::test]
async fn pickup_is_created_and_picked_up() {
    let f = Fixture::start().await;
    let order_id = f.order("pickup");
    let ready = f
        .client
        .create_pickup_process(
            order_id,
            &CreatePickupProcess {
                comment: Some("Ready at the counter".into()),
                send_mail: Some(true),
                create_packing_slip: Some(false),
            },
        )
        .await
        .unwrap();
    assert_eq!(ready.status, PickupProcessStatus::ReadyForPickup);
    assert_eq!(ready.line_items.len(), 2);

    let picked = f
        .client
        .mark_picked_up(
            order_id,
            ready.id,
            &MarkPickedUp {
                comment: None,
                send_mail: Some(false),
            },
        )
        .await
        .unwrap();
    assert_eq!(picked.status, PickupProcessStatus::PickedUp);
    let order = f.client.get_order(order_id).await.unwrap();
    assert_eq!(order.shipping_status, Some(OrderShippingStatus::PickedUp));
}

#[tokio::test]
async fn cancels_whole_orders_and_single_items() {
    let f = Fixture::start().await;
    let canceled = f
        .client
        .cancel_order(f.order("new"), &CommentBody::new("Customer asked"))
        .await
        .unwrap();
    assert!(canceled.is_canceled());
    assert!(!canceled.links.has("cancel"));

    let order_id = f.order("paid");
    let order = f.client.get_order(order_id).await.unwrap();
    let line = &order.product_line_items[0];
    let process = f
        .client
        .create_cancel_process(
            order_id,
            &CreateCancelProcess {
                comment: Some("One mug out of stock".into()),
                line_items: vec![ProcessLineItem::new(line.id, 1)],
            },
        )
        .await
        .unwrap();
    assert_eq!(process.line_items, vec![ProcessLineItem::new(line.id, 1)]);
    let order = f.client.get_order(order_id).await.unwrap();
    assert_eq!(order.product_line_items[0].canceled_quantity(), 1);
    assert_eq!(order.product_line_items[0].quantity, 1);
}

#[tokio::test]
async fn returns_broken_items_against_their_shipment() {
    let f = Fixture::start().await;
    let order_id = f.order("shipped");
    let processes = f.client.order_processes(order_id).await.unwrap();
    let shipment = processes.embedded.shipping[0].id;
    let order = f.client.get_order(order_id).await.unwrap();
    let line = &order.product_line_items[0];

    let returned = f
        .client
        .create_return_process(
            order_id,
            &CreateReturnProcess {
                comment: Some("Strap torn".into()),
                send_mail: Some(false),
                line_items: vec![ReturnLineItem {
                    product_line_item_id: line.id,
                    quantity: 1,
                    status: ReturnLineItemStatus::Broken,
                }],
                shipping_process_id: Some(shipment),
                ..CreateReturnProcess::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(returned.line_items[0].status, ReturnLineItemStatus::Broken);
    assert_eq!(
        returned.embedded.shipping_process.as_ref().map(|p| p.id),
        Some(shipment)
    );
    let order = f.client.get_order(order_id).await.unwrap();
    assert_eq!(order.product_line_items[0].broken_quantity(), 1);
}

#[tokio::test]
async fn marks_payment_paid_and_creates_orders() {
    let f = Fixture::start().await;
    let order_id = f.order("variation");
    let order = f.client.get_order(order_id).await.unwrap();
    let paid = f
        .client
        .mark_payment_paid(
            order_id,
            &MarkPaid {
                comment: Some("Bank transfer".into()),
                details: Some(MarkPaidDetails {
                    amount: order.grand_total.clone(),
                }),
            },
        )
        .await
        .unwrap();
    assert_eq!(paid.status, PaymentProcessStatus::Paid);

    let body: CreateOrder = serde_json::from_value(json!({
        "orderNumber": "EXT-1001",
        "entryDate": "2024-05-01T10:00:00.000",
        "customerEmail": "buyer@example.com",
        "currency": "EUR",
        "taxModel": "GROSS",
        "taxable": true,
        "netTotal": { "currency": "EUR", "amount": 21.68 },
        "taxTotal": { "currency": "EUR", "amount": 4.12 },
        "subTotal": { "currency": "EUR", "amount": 25.80 },
        "grandTotal": { "currency": "EUR", "amount": 25.80 },
        "productLineItems": [ {
            "quantity": 2,
            "unitPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 12.90 },
            "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 25.80 },
            "product": { "sku": "MUG-001" }
        } ],
        "paymentLineItem": {
            "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 0 },
            "paymentMethod": { "name": "Invoice", "refund": "PARTIAL_REFUND" }
        },
        "billingAddress": { "firstName": "Ada", "lastName": "Lovelace", "street": "Main St",
            "houseNumber": "1", "postalCode": "12345", "city": "Berlin", "country": "DE" },
        "salesChannel": "Storefront",
        "adjustStock": false,
        "testOrder": true
    }))
    .unwrap();
    let created = f.client.create_order(&body).await.unwrap();
    assert_eq!(created.order_number.as_deref(), Some("EXT-1001"));
    assert_eq!(created.product_line_items[0].unshipped_quantity(), 2);
    assert_eq!(f.client.get_order(created.id).await.unwrap().id, created.id);
}

#[tokio::test]
async fn products_variations_and_stock() {
    let f = Fixture::start().await;
    let client: &BeyondClient = &f.client;

    let mug = client
        .find_product_by_sku("MUG-001")
        .await
        .unwrap()
        .expect("mug");
    // Seeded orders have taken their quantities off the initial 25.
    let mug_stock = mug
        .availability()
        .and_then(|a| a.available_stock)
        .expect("managed stock");
    assert!(mug_stock < 25);
    assert!(
        client
            .find_product_by_sku("NOPE-404")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(client.get_product(mug.id).await.unwrap().id, mug.id);

    let products = client.list_products(&PageRequest::default()).await.unwrap();
    assert_eq!(products.items().len(), 3);
    let shirt = products
        .items()
        .iter()
        .find(|p| p.is_variation_product == Some(true))
        .expect("variation product");
    let variations = client.all_variations(shirt.id).await.unwrap();
    assert_eq!(variations.items.len(), 3);
    let small = variations
        .items
        .iter()
        .find(|v| v.sku.as_deref() == Some("TSHIRT-S"))
        .expect("small");

    let availability = client.product_availability(mug.id).await.unwrap();
    assert_eq!(availability.available_stock, Some(mug_stock));
    let adjusted = client.adjust_product_stock(mug.id, -3).await.unwrap();
    assert_eq!(adjusted.available_stock, Some(mug_stock - 3));

    let small_stock = client
        .variation_availability(shirt.id, small.id)
        .await
        .unwrap();
    let small_before = small_stock.available_stock.expect("managed stock");
    let small_adjusted = client
        .adjust_variation_stock(shirt.id, small.id, 5)
        .await
        .unwrap();
    assert_eq!(small_adjusted.available_stock, Some(small_before + 5));

    let bag = client
        .find_product_by_sku("BAG-001")
        .await
        .unwrap()
        .expect("bag");
    assert!(!bag.availability().expect("availability").is_stock_managed());
    let enabled = client
        .enable_stock_management(
            bag.id,
            &EnableStockManagement {
                initial_available_stock: 7,
                stock_threshold: Some(2),
            },
        )
        .await
        .unwrap();
    assert_eq!(enabled.available_stock, Some(7));
    assert_eq!(enabled.availability_state, Some(AvailabilityState::InStock));
    let disabled = client.disable_stock_management(bag.id).await.unwrap();
    assert_eq!(disabled.available_stock, None);

    let body: CreateProduct = serde_json::from_value(json!({
        "sku": "NEW-001",
        "name": "Espresso Cup",
        "salesPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 7.5 },
        "visible": true,
        "taxClass": "REGULAR"
    }))
    .unwrap();
    let created = client.create_product(&body).await.unwrap();
    assert_eq!(created.sku.as_deref(), Some("NEW-001"));
    assert_eq!(
        created.sales_price.map(|p| p.money()),
        Some(Money {
            currency: "EUR".into(),
            amount: "7.5".parse().unwrap()
        })
    );
    assert!(
        client
            .find_product_by_sku("NEW-001")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn signers_and_webhook_subscriptions() {
    let f = Fixture::start().await;
    let client = &f.client;
    let signer = client.create_signer().await.unwrap();
    assert!(
        signer
            .shared_secret
            .as_ref()
            .is_some_and(|secret| !secret.expose_secret().is_empty())
    );
    let signers = client.list_signers().await.unwrap();
    assert!(signers.iter().any(|s| s.id == signer.id));
    assert!(signers.iter().all(|s| s.shared_secret.is_none()));

    let subscription = client
        .create_subscription(&CreateSubscription {
            callback_uri: "http://127.0.0.1:9/hooks".into(),
            event_types: vec![
                WebhookEventType::OrderCreated,
                WebhookEventType::OrderUpdated,
            ],
        })
        .await
        .unwrap();
    assert_eq!(subscription.active, Some(true));
    let subscriptions = client.list_subscriptions().await.unwrap();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].event_types.len(), 2);

    client.delete_subscription(subscription.id).await.unwrap();
    assert!(client.list_subscriptions().await.unwrap().is_empty());
    // Deleting again is not an error: the subscription is gone either way.
    client.delete_subscription(subscription.id).await.unwrap();

    let second = client.create_signer().await.unwrap();
    client.delete_signer(signer.id).await.unwrap();
    let remaining = client.list_signers().await.unwrap();
    assert!(remaining.iter().all(|s| s.id != signer.id));
    assert!(remaining.iter().any(|s| s.id == second.id));
    assert_eq!(
        statuses(&f.journal("DELETE", "/webhook-subscriptions/*")),
        vec![Some(204), Some(404)]
    );
}
