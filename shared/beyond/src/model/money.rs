//! Money, prices and taxes. Amounts are `Decimal` carried as JSON numbers, as Beyond sends
//! them; floats never enter our types (the JSON number goes through its shortest decimal
//! text, so `53.2687` stays `53.2687`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient_enum::lenient_enum;

lenient_enum! {
    /// Whether prices include tax.
    pub enum TaxModel {
        Gross => "GROSS",
        Net => "NET",
    }
}

lenient_enum! {
    /// Tax class of a line item or product.
    pub enum TaxClass {
        Regular => "REGULAR",
        Reduced => "REDUCED",
        Exempt => "EXEMPT",
    }
}

/// An amount in a currency: `{currency, amount}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount: Decimal,
}

impl Money {
    pub fn new(currency: impl Into<String>, amount: Decimal) -> Self {
        Self {
            currency: currency.into(),
            amount,
        }
    }
}

/// A price: money with the tax model it is expressed in, and for product prices the
/// price in the other tax model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    #[serde(default)]
    pub tax_model: Option<TaxModel>,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_price: Option<DerivedPrice>,
}

impl Price {
    pub fn new(tax_model: TaxModel, currency: impl Into<String>, amount: Decimal) -> Self {
        Self {
            tax_model: Some(tax_model),
            currency: currency.into(),
            amount,
            derived_price: None,
        }
    }

    /// The same amount without its tax model.
    pub fn money(&self) -> Money {
        Money::new(self.currency.clone(), self.amount)
    }
}

/// A product price converted into the other tax model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivedPrice {
    #[serde(default)]
    pub tax_model: Option<TaxModel>,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount: Decimal,
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub tax_rate: Option<Decimal>,
}

/// One tax amount: `{taxClass, taxRate, currency, amount}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tax {
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
    /// A fraction, e.g. `0.19`.
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub tax_rate: Option<Decimal>,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_are_exact_decimals_serialized_as_numbers() {
        let money: Money = serde_json::from_str(r#"{"currency":"EUR","amount":53.2687}"#).unwrap();
        assert_eq!(money.amount, Decimal::from_str("53.2687").unwrap());
        assert_eq!(
            serde_json::to_string(&money).unwrap(),
            r#"{"currency":"EUR","amount":53.2687}"#
        );
        let integer: Money = serde_json::from_str(r#"{"currency":"EUR","amount":0}"#).unwrap();
        assert_eq!(integer.amount, Decimal::ZERO);
    }

    #[test]
    fn prices_keep_tax_model_and_skip_absent_derived_price() {
        let json = r#"{"taxModel":"GROSS","currency":"EUR","amount":-2.997}"#;
        let price: Price = serde_json::from_str(json).unwrap();
        assert_eq!(price.tax_model, Some(TaxModel::Gross));
        assert_eq!(price.amount, Decimal::from_str("-2.997").unwrap());
        assert_eq!(serde_json::to_string(&price).unwrap(), json);
    }

    #[test]
    fn tax_rate_may_be_null() {
        let tax: Tax = serde_json::from_str(
            r#"{"taxClass":"REDUCED_3","taxRate":null,"currency":"EUR","amount":1.5}"#,
        )
        .unwrap();
        assert_eq!(tax.tax_class, Some(TaxClass::Other("REDUCED_3".into())));
        assert_eq!(tax.tax_rate, None);
    }
}
