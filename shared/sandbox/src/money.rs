//! Money as Beyond writes it: `{currency, amount}` objects, prices with a `taxModel`, amounts
//! as JSON numbers. Arithmetic is done in `Decimal` and only turned into a number on output.

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::{Number, Value, json};

/// Gross prices include tax; net prices exclude it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxModel {
    Gross,
    Net,
}

impl TaxModel {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "GROSS" => Some(TaxModel::Gross),
            "NET" => Some(TaxModel::Net),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaxModel::Gross => "GROSS",
            TaxModel::Net => "NET",
        }
    }
}

/// A JSON number for an amount: integral amounts are written without a fraction (`0`, `400`)
/// as in Beyond's examples.
pub fn number(amount: Decimal) -> Value {
    let normalized = amount.normalize();
    if normalized.fract().is_zero()
        && let Some(whole) = normalized.to_i64()
    {
        return Value::Number(Number::from(whole));
    }
    normalized
        .to_f64()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// `{currency, amount}`.
pub fn money(currency: &str, amount: Decimal) -> Value {
    json!({ "currency": currency, "amount": number(amount) })
}

/// `{taxModel, currency, amount}`.
pub fn price(tax_model: TaxModel, currency: &str, amount: Decimal) -> Value {
    json!({ "taxModel": tax_model.as_str(), "currency": currency, "amount": number(amount) })
}

/// Reads a JSON number (or numeric string) as a decimal.
pub fn decimal_from_json(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .map(Decimal::from)
            .or_else(|| number.as_f64().and_then(Decimal::from_f64)),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

/// Amounts beyond a trillion are refused as input: no shop sells that, and bounding them
/// keeps every later multiplication and sum far from `Decimal` overflow.
pub fn plausible_amount(amount: Decimal) -> bool {
    amount.abs() <= Decimal::from(1_000_000_000_000_i64)
}

/// Tax rates are fractions between 0 and 1 (`0.19`); anything else is refused as input
/// (a rate of -1 would divide by zero).
pub fn plausible_rate(rate: Decimal) -> bool {
    rate >= Decimal::ZERO && rate <= Decimal::ONE
}

/// The tax contained in a gross amount (or added to a net one) at `rate`, rounded to four
/// places as Beyond's examples show (`7.9743`).
pub fn tax_of(tax_model: TaxModel, amount: Decimal, rate: Decimal) -> Decimal {
    let tax = match tax_model {
        TaxModel::Gross => amount - amount / (Decimal::ONE + rate),
        TaxModel::Net => amount * rate,
    };
    tax.round_dp(4)
}

/// The tax rate Beyond's default German shop applies per tax class.
pub fn default_tax_rate(tax_class: &str) -> Decimal {
    match tax_class {
        "REDUCED" => Decimal::new(7, 2),
        "EXEMPT" => Decimal::ZERO,
        _ => Decimal::new(19, 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_amounts_render_without_fraction() {
        assert_eq!(number(Decimal::new(0, 2)).to_string(), "0");
        assert_eq!(number(Decimal::new(40000, 2)).to_string(), "400");
        assert_eq!(number(Decimal::new(4995, 2)).to_string(), "49.95");
    }

    #[test]
    fn gross_tax_is_rounded_to_four_places() {
        let tax = tax_of(TaxModel::Gross, Decimal::new(4995, 2), Decimal::new(19, 2));
        assert_eq!(tax, Decimal::new(79752, 4)); // 49.95 - 49.95 / 1.19
    }

    #[test]
    fn reads_numbers_and_numeric_strings() {
        assert_eq!(decimal_from_json(&json!(9.99)), Some(Decimal::new(999, 2)));
        assert_eq!(decimal_from_json(&json!("2.5")), Some(Decimal::new(25, 1)));
        assert_eq!(decimal_from_json(&json!(3)), Some(Decimal::from(3)));
        assert_eq!(decimal_from_json(&json!(null)), None);
    }
}
