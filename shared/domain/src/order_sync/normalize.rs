//! Beyond `Order` → the normalized order of `order.created`.
//!
//! Data without which Afosto cannot create a correct order (no SKU on a line, no currency,
//! no prices, no billing country, amounts in another currency than the order's) is a typed
//! [`InvalidOrder`] naming the field, so the poller can log it to the activity log and go
//! on with the rest of the page. A missing *optional* field never fails: it is left out.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use beyond::model::money::{Money, Price, Tax, TaxModel as BeyondTaxModel};
use beyond::model::order::{Address, Order, PickupLineItem, ProductLineItem};
use contracts::order_event::{
    Amount, Coupon, CustomText, Customer, CustomerKind, Delivery, NormalizedOrder, Notes,
    OrderLine, Payment, PickupCharge, PickupLocation, PostalAddress, ShippingCharge, TaxAmount,
    TaxModel, Totals, VariationAttribute,
};

use super::quantities::initial_quantity;

/// Why an order cannot be imported. `field` is the JSON path in the ePages order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrder {
    #[error("ePages order {order_id}: `{field}` is missing")]
    Missing { order_id: Uuid, field: String },
    #[error("ePages order {order_id}: `{field}` is {value:?}: {reason}")]
    Unsupported {
        order_id: Uuid,
        field: String,
        value: String,
        reason: &'static str,
    },
    #[error("ePages order {order_id}: `{field}` is in {found}, but the order is in {expected}")]
    CurrencyMismatch {
        order_id: Uuid,
        field: String,
        expected: String,
        found: String,
    },
}

impl InvalidOrder {
    /// The ePages order the error is about.
    pub fn order_id(&self) -> Uuid {
        match self {
            InvalidOrder::Missing { order_id, .. }
            | InvalidOrder::Unsupported { order_id, .. }
            | InvalidOrder::CurrencyMismatch { order_id, .. } => *order_id,
        }
    }

    /// The offending field, as a path into the ePages order JSON.
    pub fn field(&self) -> &str {
        match self {
            InvalidOrder::Missing { field, .. }
            | InvalidOrder::Unsupported { field, .. }
            | InvalidOrder::CurrencyMismatch { field, .. } => field,
        }
    }
}

/// Builds the normalized order. See the module docs for what fails.
pub fn normalize(order: &Order) -> Result<NormalizedOrder, InvalidOrder> {
    let fields = Fields::new(order);
    let currency = fields.currency()?;
    let lines = order
        .product_line_items
        .iter()
        .enumerate()
        .map(|(index, line)| fields.line(index, line))
        .collect::<Result<Vec<_>, _>>()?;
    if lines.is_empty() {
        return Err(fields.missing("productLineItems"));
    }
    line_skus(order)?;
    let billing_source = order
        .billing_address
        .as_ref()
        .ok_or_else(|| fields.missing("billingAddress"))?;
    let billing_address = fields.address(billing_source, "billingAddress")?;
    let (delivery, shipping_address) = match &order.pickup_line_item {
        Some(pickup) => (Delivery::Pickup(fields.pickup(pickup)?), None),
        None => {
            // ePages: the shipping address defaults to billing when absent.
            let shipping_address = match &order.shipping_address {
                Some(address) => fields.address(address, "shippingAddress")?,
                None => billing_address.clone(),
            };
            (
                Delivery::Shipping(fields.shipping()?),
                Some(shipping_address),
            )
        }
    };
    let delivery_price = match &delivery {
        Delivery::Shipping(charge) => charge.price,
        Delivery::Pickup(charge) => charge.price,
    };
    Ok(NormalizedOrder {
        order_id: order.id,
        order_number: order_number(order)?,
        created_at: created_at(order)?,
        entry_date: order.entry_date.map(|at| at.as_utc()),
        currency: currency.to_owned(),
        tax_model: fields.tax_model()?,
        taxable: order.taxable,
        test_order: order.test_order.unwrap_or(false),
        sales_channel: clean(&order.sales_channel),
        marketing_channel: clean(&order.marketing_channel),
        customer: fields.customer(billing_source)?,
        billing_address,
        shipping_address,
        delivery,
        lines,
        payment: fields.payment()?,
        coupon: fields.coupon()?,
        totals: fields.totals(delivery_price)?,
        notes: Notes {
            customer_comment: clean(&order.customer_comment),
            order_note: clean(&order.order_note),
            payment_note: clean(&order.payment_note),
        },
    })
}

/// The `orderNumber`, which every event carries.
pub fn order_number(order: &Order) -> Result<String, InvalidOrder> {
    clean(&order.order_number).ok_or_else(|| Fields::new(order).missing("orderNumber"))
}

/// When the order was created: `createdAt`, or the business `entryDate` when ePages omits
/// the technical time.
pub fn created_at(order: &Order) -> Result<DateTime<Utc>, InvalidOrder> {
    order
        .created_at
        .or(order.entry_date)
        .map(|at| at.as_utc())
        .ok_or_else(|| Fields::new(order).missing("createdAt"))
}

/// The SKU of every line, in order, checking that each line has one and appears once:
/// events name lines by id and SKU, and the ledger counts per line id.
pub fn line_skus(order: &Order) -> Result<Vec<(Uuid, String)>, InvalidOrder> {
    let fields = Fields::new(order);
    let mut seen = BTreeSet::new();
    order
        .product_line_items
        .iter()
        .enumerate()
        .map(|(index, line)| {
            if !seen.insert(line.id) {
                return Err(fields.unsupported(
                    format!("productLineItems[{index}]._id"),
                    line.id.to_string(),
                    "the line item id appears twice in the order",
                ));
            }
            let sku = clean(&line.product.sku)
                .ok_or_else(|| fields.missing(format!("productLineItems[{index}].product.sku")))?;
            Ok((line.id, sku))
        })
        .collect()
}

/// A trimmed, non-empty text: ePages sends `""` as often as `null` for "no value".
fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// Field conversions for one order, so every error names the order and the field.
struct Fields<'a> {
    order: &'a Order,
}

impl<'a> Fields<'a> {
    fn new(order: &'a Order) -> Self {
        Self { order }
    }

    fn missing(&self, field: impl Into<String>) -> InvalidOrder {
        InvalidOrder::Missing {
            order_id: self.order.id,
            field: field.into(),
        }
    }

    fn unsupported(
        &self,
        field: impl Into<String>,
        value: impl Into<String>,
        reason: &'static str,
    ) -> InvalidOrder {
        InvalidOrder::Unsupported {
            order_id: self.order.id,
            field: field.into(),
            value: value.into(),
            reason,
        }
    }

    fn currency(&self) -> Result<&'a str, InvalidOrder> {
        self.order
            .currency
            .as_deref()
            .map(str::trim)
            .filter(|currency| !currency.is_empty())
            .ok_or_else(|| self.missing("currency"))
    }

    fn tax_model(&self) -> Result<TaxModel, InvalidOrder> {
        match &self.order.tax_model {
            Some(BeyondTaxModel::Gross) => Ok(TaxModel::Gross),
            Some(BeyondTaxModel::Net) => Ok(TaxModel::Net),
            Some(BeyondTaxModel::Other(value)) => Err(self.unsupported(
                "taxModel",
                value.clone(),
                "only GROSS and NET prices can be imported",
            )),
            None => Err(self.missing("taxModel")),
        }
    }

    /// An amount in the order's currency; another currency is an error, never converted.
    fn amount(&self, currency: &str, amount: Decimal, field: &str) -> Result<Amount, InvalidOrder> {
        let expected = self.currency()?;
        if currency.trim().eq_ignore_ascii_case(expected) {
            Ok(Amount(amount))
        } else {
            Err(InvalidOrder::CurrencyMismatch {
                order_id: self.order.id,
                field: field.to_owned(),
                expected: expected.to_owned(),
                found: currency.to_owned(),
            })
        }
    }

    fn money(&self, money: &Money, field: &str) -> Result<Amount, InvalidOrder> {
        self.amount(&money.currency, money.amount, field)
    }

    fn price(&self, price: &Price, field: &str) -> Result<Amount, InvalidOrder> {
        self.amount(&price.currency, price.amount, field)
    }

    fn optional_money(
        &self,
        money: Option<&Money>,
        field: &str,
    ) -> Result<Option<Amount>, InvalidOrder> {
        money.map(|money| self.money(money, field)).transpose()
    }

    fn tax(&self, tax: &Tax, field: &str) -> Result<TaxAmount, InvalidOrder> {
        Ok(TaxAmount {
            tax_class: tax
                .tax_class
                .as_ref()
                .map(|class| class.as_str().to_owned()),
            rate: tax.tax_rate.map(Amount),
            amount: self.amount(&tax.currency, tax.amount, &format!("{field}.amount"))?,
        })
    }

    fn taxes(&self, taxes: &[Tax], field: &str) -> Result<Vec<TaxAmount>, InvalidOrder> {
        taxes
            .iter()
            .enumerate()
            .map(|(index, tax)| self.tax(tax, &format!("{field}[{index}]")))
            .collect()
    }

    fn line(&self, index: usize, line: &ProductLineItem) -> Result<OrderLine, InvalidOrder> {
        let field = |name: &str| format!("productLineItems[{index}].{name}");
        let sku = clean(&line.product.sku).ok_or_else(|| self.missing(field("product.sku")))?;
        let quantity = initial_quantity(line);
        if quantity == 0 {
            return Err(self.unsupported(
                field("initialQuantity"),
                "0",
                "a line must have at least one ordered piece",
            ));
        }
        let unit_price = line
            .unit_price
            .as_ref()
            .ok_or_else(|| self.missing(field("unitPrice")))?;
        // The order as placed: the initial line price, before cancelations and returns.
        let (line_price, line_price_field) =
            match (&line.initial_line_item_price, &line.line_item_price) {
                (Some(initial), _) => (initial, field("initialLineItemPrice")),
                (None, Some(current)) => (current, field("lineItemPrice")),
                (None, None) => return Err(self.missing(field("lineItemPrice"))),
            };
        Ok(OrderLine {
            line_item_id: line.id,
            sku,
            name: clean(&line.product.name),
            product_id: line.product.id,
            parent_product_id: line.product.variation_parent_id(),
            variation_attributes: line
                .product
                .variation_attribute_values
                .iter()
                .map(|attribute| VariationAttribute {
                    name: clean(&attribute.display_name),
                    value: clean(&attribute.value),
                })
                .collect(),
            quantity,
            unit_price: self.price(unit_price, &field("unitPrice"))?,
            line_price: self.price(line_price, &line_price_field)?,
            unit_discount: self
                .optional_money(line.unit_discount.as_ref(), &field("unitDiscount"))?,
            line_discount: self
                .optional_money(line.line_item_discount.as_ref(), &field("lineItemDiscount"))?,
            tax: line
                .line_item_tax
                .as_ref()
                .map(|tax| self.tax(tax, &field("lineItemTax")))
                .transpose()?,
            custom_text: line.custom_text.as_ref().and_then(|text| {
                let label = clean(&text.label);
                let value = clean(&text.value);
                (label.is_some() || value.is_some()).then_some(CustomText { label, value })
            }),
        })
    }

    /// A billing or shipping address; Afosto needs its country for taxes.
    fn address(&self, address: &Address, field: &str) -> Result<PostalAddress, InvalidOrder> {
        let country_field = format!("{field}.country");
        let country = clean(&address.country).ok_or_else(|| self.missing(country_field.clone()))?;
        let country = iso_country(&country).ok_or_else(|| {
            self.unsupported(
                country_field,
                country,
                "not an ISO 3166-1 alpha-2 country code",
            )
        })?;
        Ok(postal_address(address, country))
    }

    fn customer(&self, billing: &Address) -> Result<Customer, InvalidOrder> {
        let email = clean(&self.order.customer_email)
            .or_else(|| clean(&billing.email))
            .ok_or_else(|| self.missing("customerEmail"))?;
        let company = clean(&billing.company);
        Ok(Customer {
            kind: if company.is_some() {
                CustomerKind::Business
            } else {
                CustomerKind::Private
            },
            email,
            salutation: clean(&billing.salutation),
            title: clean(&billing.title),
            first_name: clean(&billing.first_name),
            middle_name: clean(&billing.middle_name),
            last_name: clean(&billing.last_name),
            company,
            customer_number: clean(&self.order.customer_number),
            customer_id: clean(&self.order.customer_id),
            phone: clean(&billing.phone).or_else(|| clean(&billing.mobile)),
            vat_id: clean(&billing.vat_id),
            tax_number: clean(&billing.tax_number),
        })
    }

    fn shipping(&self) -> Result<ShippingCharge, InvalidOrder> {
        let Some(item) = &self.order.shipping_line_item else {
            // No shipping line (e.g. a free or digital delivery): nothing to charge.
            return Ok(ShippingCharge {
                method_id: None,
                method_name: None,
                price: Amount::ZERO,
                tax_class: None,
                taxes: Vec::new(),
            });
        };
        let method = item.shipping_method.as_ref();
        Ok(ShippingCharge {
            method_id: method.and_then(|method| clean(&method.id)),
            method_name: method.and_then(|method| clean(&method.name)),
            price: self.charge(
                item.initial_line_item_price.as_ref(),
                item.line_item_price.as_ref(),
                "shippingLineItem",
            )?,
            tax_class: item
                .tax_class
                .as_ref()
                .map(|class| class.as_str().to_owned()),
            taxes: self.taxes(&item.line_item_taxes, "shippingLineItem.lineItemTaxes")?,
        })
    }

    fn pickup(&self, item: &PickupLineItem) -> Result<PickupCharge, InvalidOrder> {
        let option = item.pickup_option.as_ref();
        Ok(PickupCharge {
            option_id: option.and_then(|option| clean(&option.id)),
            option_name: option.and_then(|option| clean(&option.name)),
            price: self.charge(
                item.initial_line_item_price.as_ref(),
                item.line_item_price.as_ref(),
                "pickupLineItem",
            )?,
            tax_class: item
                .tax_class
                .as_ref()
                .map(|class| class.as_str().to_owned()),
            taxes: self.taxes(&item.line_item_taxes, "pickupLineItem.lineItemTaxes")?,
            location: option
                .and_then(|option| option.embedded.location.as_ref())
                .map(|location| {
                    Box::new(PickupLocation {
                        location_id: clean(&location.id),
                        store_code: clean(&location.store_code),
                        company_name: clean(&location.company_name),
                        phone: clean(&location.primary_phone),
                        // The store's address is informational: without a usable country it
                        // is left out rather than failing the import.
                        address: location.address.as_ref().and_then(|address| {
                            let country = iso_country(&clean(&address.country)?)?;
                            Some(postal_address(address, country))
                        }),
                    })
                }),
        })
    }

    /// A shipping, pickup or payment charge as placed (initial price first); none is zero.
    fn charge(
        &self,
        initial: Option<&Price>,
        current: Option<&Price>,
        item: &str,
    ) -> Result<Amount, InvalidOrder> {
        match (initial, current) {
            (Some(price), _) => self.price(price, &format!("{item}.initialLineItemPrice")),
            (None, Some(price)) => self.price(price, &format!("{item}.lineItemPrice")),
            (None, None) => Ok(Amount::ZERO),
        }
    }

    fn payment(&self) -> Result<Option<Payment>, InvalidOrder> {
        let item = self.order.payment_line_item.as_ref();
        let method = item.and_then(|item| item.payment_method.as_ref());
        let status = self
            .order
            .payment_status
            .as_ref()
            .map(|status| status.as_str().to_owned());
        if item.is_none() && status.is_none() {
            return Ok(None);
        }
        let fee = match item {
            Some(item)
                if item.initial_line_item_price.is_some() || item.line_item_price.is_some() =>
            {
                Some(self.charge(
                    item.initial_line_item_price.as_ref(),
                    item.line_item_price.as_ref(),
                    "paymentLineItem",
                )?)
            }
            _ => None,
        };
        Ok(Some(Payment {
            method_id: method.and_then(|method| clean(&method.id)),
            method_name: method.and_then(|method| clean(&method.name)),
            status,
            refund_policy: self
                .order
                .refund_policy()
                .map(|policy| policy.as_str().to_owned()),
            online_payment: method.and_then(|method| method.online_payment),
            fee,
            external_payment_id: clean(&self.order.external_payment_id),
        }))
    }

    fn coupon(&self) -> Result<Option<Coupon>, InvalidOrder> {
        let Some(item) = &self.order.coupon_line_item else {
            return Ok(None);
        };
        let campaign = item.coupon_campaign.as_ref();
        Ok(Some(Coupon {
            code: clean(&item.code),
            campaign_id: campaign.and_then(|campaign| clean(&campaign.id)),
            campaign_name: campaign.and_then(|campaign| clean(&campaign.name)),
            amount: item
                .line_item_price
                .as_ref()
                .map(|price| self.price(price, "couponLineItem.lineItemPrice"))
                .transpose()?,
        }))
    }

    /// Totals as placed: the `initial…` totals when ePages has them.
    fn totals(&self, shipping: Amount) -> Result<Totals, InvalidOrder> {
        let order = self.order;
        let required =
            |initial: &Option<Money>, current: &Option<Money>, name: &str, initial_name: &str| {
                match (initial, current) {
                    (Some(money), _) => self.money(money, initial_name),
                    (None, Some(money)) => self.money(money, name),
                    (None, None) => Err(self.missing(name)),
                }
            };
        let optional = |initial: &Option<Money>, current: &Option<Money>, name: &str| {
            self.optional_money(initial.as_ref().or(current.as_ref()), name)
        };
        Ok(Totals {
            subtotal: required(
                &order.initial_subtotal,
                &order.subtotal,
                "subtotal",
                "initialSubtotal",
            )?,
            shipping,
            tax_total: optional(&order.initial_tax_total, &order.tax_total, "taxTotal")?,
            net_total: optional(&order.initial_net_total, &order.net_total, "netTotal")?,
            grand_total: required(
                &order.initial_grand_total,
                &order.grand_total,
                "grandTotal",
                "initialGrandTotal",
            )?,
            taxes: self.taxes(&order.taxes, "taxes")?,
        })
    }
}

/// An ISO 3166-1 alpha-2 code in upper case, or `None` when the text is not one.
fn iso_country(country: &str) -> Option<String> {
    (country.len() == 2 && country.bytes().all(|byte| byte.is_ascii_alphabetic()))
        .then(|| country.to_ascii_uppercase())
}

fn postal_address(address: &Address, country: String) -> PostalAddress {
    PostalAddress {
        salutation: clean(&address.salutation),
        title: clean(&address.title),
        first_name: clean(&address.first_name),
        middle_name: clean(&address.middle_name),
        last_name: clean(&address.last_name),
        company: clean(&address.company),
        street: clean(&address.street),
        house_number: clean(&address.house_number),
        street2: clean(&address.street2),
        addition: clean(&address.address_extension),
        postal_code: clean(&address.postal_code),
        dependent_locality: clean(&address.dependent_locality),
        city: clean(&address.city),
        country,
        state: clean(&address.state),
        email: clean(&address.email),
        phone: clean(&address.phone),
        mobile: clean(&address.mobile),
        door_code: clean(&address.door_code),
    }
}
