//! Which ePages scopes each flow needs, as data, and the check `tenant verify` runs
//! against the scopes a token was granted.

use serde::Serialize;

use beyond::model::Scopes;
use domain::tenant::FlowSwitches;

/// A piece of the connector that needs its own scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// ePages orders → Afosto: list and read orders, their events and processes.
    Orders,
    /// Order webhooks (`order.created` / `order.updated`), which make new orders arrive in
    /// seconds; needed whenever orders are synced.
    Webhooks,
    Cancellations,
    Shipments,
    Returns,
    Stock,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Orders => "orders",
            Flow::Webhooks => "webhooks",
            Flow::Cancellations => "cancellations",
            Flow::Shipments => "shipments",
            Flow::Returns => "returns",
            Flow::Stock => "stock",
        }
    }
}

/// The scopes of one flow and what they are used for (beyond-api.md §1.2).
#[derive(Clone, Copy, Debug)]
pub struct FlowScopes {
    pub flow: Flow,
    pub scopes: &'static [&'static str],
    pub used_for: &'static str,
}

/// The flow → scope table. Every operation a flow calls needs the listed scope; a missing
/// one fails that flow with 403 `insufficient_scope`.
pub const FLOW_SCOPES: &[FlowScopes] = &[
    FlowScopes {
        flow: Flow::Orders,
        scopes: &["ordr:r", "orde:r", "ordp:r"],
        used_for: "list and read orders, their events and processes",
    },
    FlowScopes {
        flow: Flow::Webhooks,
        scopes: &["ordr:r"],
        used_for: "subscribe to order.created / order.updated",
    },
    FlowScopes {
        flow: Flow::Cancellations,
        scopes: &["ordr:r", "clpr:c"],
        used_for: "read the order, cancel it or create cancelation processes",
    },
    FlowScopes {
        flow: Flow::Shipments,
        scopes: &["ordr:r", "ordp:r", "shpr:r", "shpr:c", "shpr:u"],
        used_for: "create shipping and pickup processes, mark shipped, delivered, picked up",
    },
    FlowScopes {
        flow: Flow::Returns,
        scopes: &["ordr:r", "ordp:r", "rtpr:c"],
        used_for: "create return processes",
    },
    FlowScopes {
        flow: Flow::Stock,
        scopes: &["prod:r", "prda:r", "prda:u"],
        used_for: "find products by SKU, read and adjust availability",
    },
];

/// The flows a tenant's switches turn on (webhooks come with orders).
pub fn enabled_flows(switches: &FlowSwitches) -> Vec<Flow> {
    let mut flows = Vec::new();
    if switches.orders {
        flows.push(Flow::Orders);
        flows.push(Flow::Webhooks);
    }
    if switches.cancellations {
        flows.push(Flow::Cancellations);
    }
    if switches.shipments {
        flows.push(Flow::Shipments);
    }
    if switches.returns {
        flows.push(Flow::Returns);
    }
    if switches.stock {
        flows.push(Flow::Stock);
    }
    flows
}

/// One flow's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowCheck {
    pub flow: Flow,
    pub required: Vec<&'static str>,
    pub missing: Vec<&'static str>,
}

/// What `tenant verify` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScopeReport {
    pub granted: Vec<String>,
    pub flows: Vec<FlowCheck>,
}

impl ScopeReport {
    pub fn ok(&self) -> bool {
        self.flows.iter().all(|check| check.missing.is_empty())
    }
}

/// Compares granted scopes with what the enabled flows need.
pub fn check_scopes(switches: &FlowSwitches, granted: &Scopes) -> ScopeReport {
    let flows = enabled_flows(switches)
        .into_iter()
        .filter_map(|flow| FLOW_SCOPES.iter().find(|entry| entry.flow == flow))
        .map(|entry| FlowCheck {
            flow: entry.flow,
            required: entry.scopes.to_vec(),
            missing: granted.missing(entry.scopes),
        })
        .collect();
    ScopeReport {
        granted: granted.0.iter().cloned().collect(),
        flows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_has_scopes() {
        for flow in [
            Flow::Orders,
            Flow::Webhooks,
            Flow::Cancellations,
            Flow::Shipments,
            Flow::Returns,
            Flow::Stock,
        ] {
            assert!(
                FLOW_SCOPES.iter().any(|entry| entry.flow == flow),
                "{flow:?}"
            );
        }
    }

    #[test]
    fn missing_scopes_are_named_per_flow() {
        let granted = Scopes::parse("ordr:r orde:r ordp:r clpr:c prod:r prda:r");
        let report = check_scopes(&FlowSwitches::default(), &granted);
        assert!(!report.ok());
        let missing = |flow| {
            report
                .flows
                .iter()
                .find(|check| check.flow == flow)
                .map(|check| check.missing.clone())
                .unwrap_or_default()
        };
        assert!(missing(Flow::Orders).is_empty());
        assert!(missing(Flow::Cancellations).is_empty());
        assert_eq!(missing(Flow::Shipments), vec!["shpr:r", "shpr:c", "shpr:u"]);
        assert_eq!(missing(Flow::Returns), vec!["rtpr:c"]);
        assert_eq!(missing(Flow::Stock), vec!["prda:u"]);

        let only_orders = FlowSwitches {
            orders: true,
            cancellations: false,
            shipments: false,
            returns: false,
            stock: false,
        };
        assert!(check_scopes(&only_orders, &granted).ok());
    }
}
