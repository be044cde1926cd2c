//! The Beyond client's hardening against what a shop (or whatever answers in its name)
//! sends: no redirects, a capped body, and single-use grants not repeated after a loss.

use std::sync::Arc;

use beyond::{BeyondClient, BeyondError, BeyondHttp, HttpSettings, StaticToken, TokenEndpoint};
use secrecy::SecretString;

use super::shop::{Answer, FakeShop};
use super::{AT, CLIENT_SECRET, valid_token};

fn settings() -> HttpSettings {
    crate::pipeline_poll::harness::fast_http()
}

fn client(shop: &FakeShop, settings: &HttpSettings) -> BeyondClient {
    let http = BeyondHttp::new(settings).expect("builds");
    BeyondClient::with_http(
        http,
        shop.api_url.clone(),
        Arc::new(StaticToken(SecretString::from(AT.to_owned()))),
    )
    .expect("builds")
}

fn endpoint(shop: &FakeShop) -> TokenEndpoint {
    TokenEndpoint::for_api_url(
        BeyondHttp::new(&settings()).expect("builds"),
        &shop.api_url,
        "client",
        SecretString::from(CLIENT_SECRET.to_owned()),
    )
    .expect("builds")
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let token = Answer::new(200, valid_token().to_string());
    let shop = FakeShop::start(token, Some(Answer::redirect("/api/elsewhere"))).await;
    let error = client(&shop, &settings()).list_signers().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(302), "{error}");
    assert_eq!(shop.api_requests(), 1, "the redirect target was not asked");
}

#[tokio::test]
async fn response_bodies_are_capped() {
    let token = Answer::new(200, valid_token().to_string());
    let big = format!(
        r#"{{"_embedded":{{"signers":[]}},"pad":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    let shop = FakeShop::start(token, Some(Answer::new(200, big))).await;
    let capped = HttpSettings {
        max_response_bytes: 16 * 1024,
        ..settings()
    };
    let error = client(&shop, &capped).list_signers().await.unwrap_err();
    assert!(
        matches!(error, BeyondError::ResponseTooLarge { limit, .. } if limit == 16 * 1024),
        "{error}"
    );
    assert_eq!(error.disposition(), beyond::Disposition::Reject);
    // The default cap lets the same answer through.
    client(&shop, &settings())
        .list_signers()
        .await
        .expect("within the default cap");
}

#[tokio::test]
async fn single_use_grants_are_not_repeated_after_an_ambiguous_loss() {
    let code = SecretString::from("code-single-use-0001".to_owned());
    let refresh = SecretString::from("rt-single-use-0001".to_owned());
    for grant in ["code", "refresh"] {
        let shop = FakeShop::start(Answer::new(502, "<html>bad gateway</html>"), None).await;
        let endpoint = endpoint(&shop);
        let error = match grant {
            "code" => endpoint.authorization_code(&code).await,
            _ => endpoint.refresh(&refresh).await,
        }
        .unwrap_err();
        assert!(
            matches!(error, BeyondError::GrantOutcomeUnknown { .. }),
            "{grant}: {error}"
        );
        assert!(
            error.to_string().contains("may have been consumed"),
            "{error}"
        );
        assert_eq!(shop.token_requests(), 1, "{grant}: sent once");
    }
    // Client credentials can be asked again: the retry policy applies.
    let shop = FakeShop::start(Answer::new(502, ""), None).await;
    endpoint(&shop).client_credentials().await.unwrap_err();
    assert_eq!(shop.token_requests(), 3, "client credentials are retried");
}
