//! The command path: a command whose tenant's token answer is malformed or echoing fails,
//! and neither the `command.failed` result sent to Afosto, nor the dead letter, nor the
//! logs carry a token.

use connector::ports::tenants::UpdateOutcome;
use contracts::command_result::ResultOutcome;
use serde_json::json;

use super::shop::{Answer, FakeShop};
use super::{AT, RT, assert_no_secret, capture, valid_token, with};
use crate::pipeline_apply::harness::{Backend, Harness};

#[tokio::test(flavor = "current_thread")]
async fn a_command_failed_by_token_answers_sends_no_token_to_afosto() {
    let double = serde_json::to_string(&valid_token().to_string()).expect("encodes");
    let echo = json!({
        "error": "invalid_client", "error_description": format!("Bad client, token {AT} {RT}")
    });
    for (scenario, token) in [
        ("double-encoded", Answer::new(200, double)),
        ("tenantId", Answer::new(200, with("tenantId", json!(AT)))),
        ("echoing 401", Answer::new(401, echo.to_string())),
        (
            "trailing garbage",
            Answer::new(200, format!("{}x", valid_token())),
        ),
    ] {
        let (buffer, _guard) = capture();
        let h = Harness::start(Backend::Embedded).await;
        let shop = FakeShop::start(token, None).await;
        let mut config = h
            .stores
            .tenants
            .get(&h.tenant)
            .await
            .expect("reads")
            .expect("exists");
        config.api_url = shop.api_url.clone();
        let updated = h
            .stores
            .tenants
            .update(config, chrono::Utc::now())
            .await
            .expect("updates");
        assert!(matches!(updated, UpdateOutcome::Updated(_)));
        h.send(&[h.command(
            "secrets-stock-1",
            "stock",
            json!({ "sku": "MUG-001", "quantity": 5, "location": "wh-1",
                    "observedAt": "2026-01-01T10:00:00Z" }),
        )])
        .await;
        h.drain(5).await;
        let results = h.results().await;
        assert_eq!(results.len(), 1, "{scenario}: one result");
        let sent = serde_json::to_string(&results[0]).expect("serializes");
        let ResultOutcome::Failed(failed) = &results[0].outcome else {
            panic!("{scenario}: the command fails: {sent}");
        };
        assert!(
            failed.message.contains("token"),
            "{scenario}: the reason is given: {}",
            failed.message
        );
        let dead = h.dead_letters().await;
        let sinks = vec![
            ("results to Afosto".to_owned(), sent),
            ("dead letters".to_owned(), format!("{dead:?}")),
            ("tracing".to_owned(), buffer.text()),
        ];
        assert!(
            shop.token_requests() >= 1,
            "{scenario}: the token endpoint was asked"
        );
        assert_no_secret(scenario, &sinks);
    }
}
