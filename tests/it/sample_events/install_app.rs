//! `install-app.json`: ePages' redirect to the public app's install callback.
//!
//! The sample names a real-looking shop (`https://sample-shop.beyondshop.cloud`), and a
//! successful install exchanges the code at that shop's token endpoint: that cannot happen
//! offline, and a test must not send credentials to the internet. So the exact sample is
//! checked up to the exchange (its signature under the sample secret, its hosts under the
//! default `ALLOWED_SHOP_HOSTS`, and the forged variant refused before any call), and the
//! install itself runs on the same request with its shop URLs moved onto the sandbox shop,
//! a code that shop issued, and the signature computed the way `sign.py` does.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use connector::epages_webhook::signer_secret_ref;
use connector::install::{
    HostPolicy, InstallConfig, InstallParams, Installer, install_signature, tenant_id_for,
    verify_install_signature,
};
use connector::lambda::InstallApp;
use domain::tenant::AuthMode;
use sandbox::SandboxHandle;
use secrecy::SecretString;

use super::{CLIENT_ID, EPAGES_WEBHOOK_URL, SAMPLE_SECRET, SHOP, event, files};
use crate::auth::support::{Backend, Kind, fast_http};

/// The shop the sample names.
const SAMPLE_SHOP: &str = "https://sample-shop.beyondshop.cloud";

fn sample() -> LambdaFunctionUrlRequest {
    event::<LambdaFunctionUrlRequest>("install-app.json", files::INSTALL_APP).payload
}

/// The request with every query parameter passed through `change`, in the raw query string
/// the handler reads and in the decoded parameters beside it.
fn with_params(
    mut request: LambdaFunctionUrlRequest,
    change: impl Fn(&str, &str) -> String,
) -> LambdaFunctionUrlRequest {
    let raw = request.raw_query_string.clone().unwrap_or_default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(name, value)| {
            let changed = change(&name, &value);
            (name.into_owned(), changed)
        })
        .collect();
    request.query_string_parameters = pairs.iter().cloned().collect();
    request.raw_query_string = Some(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    );
    request
}

/// The installer as `install-app` builds it, with the sample app's secret stored; loopback
/// shops (the sandbox) are allowed only with `loopback`, as `ALLOW_LOOPBACK_SHOPS` does.
async fn handler(backend: &Backend, loopback: bool) -> InstallApp {
    let app_secret = backend.naming.app_client_secret("public");
    backend
        .stores
        .secrets
        .put(&app_secret, SecretString::from(SAMPLE_SECRET.to_owned()))
        .await
        .expect("app secret stored");
    let hosts = if loopback {
        HostPolicy::default().allowing_loopback()
    } else {
        HostPolicy::default()
    };
    InstallApp::new(Installer {
        config: InstallConfig {
            client_id: CLIENT_ID.to_owned(),
            client_secret: app_secret,
            secrets: backend.naming.clone(),
            hosts,
            webhook_url: url::Url::parse(EPAGES_WEBHOOK_URL).expect("valid url"),
            http: fast_http(),
        },
        stores: backend.stores.clone(),
        clock: backend.dyn_clock(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exact_sample_passes_every_check_before_the_exchange_and_a_forged_one_is_refused() {
    let request = sample();
    let params = InstallParams::from_query(request.raw_query_string.as_deref().unwrap_or(""));
    let (Some(code), Some(signature), Some(token_url)) = (
        params.code.as_deref(),
        params.signature.as_deref(),
        params.access_token_url.as_deref(),
    ) else {
        panic!("the sample lacks code, signature or access_token_url: {params:?}");
    };
    assert!(
        verify_install_signature(
            &SecretString::from(SAMPLE_SECRET.to_owned()),
            code,
            token_url,
            signature
        ),
        "the sample's signature is not valid under the sample secret: run infra/events/sign.py"
    );
    let policy = HostPolicy::default();
    for (field, value) in [
        ("return_url", &params.return_url),
        ("api_url", &params.api_url),
        ("access_token_url", &params.access_token_url),
    ] {
        let url = url::Url::parse(value.as_deref().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{field}: {e}"));
        assert!(
            policy.check(field, &url).is_ok(),
            "{field} {url} is not on the default shop hosts"
        );
    }

    // Refused at the signature check, before the token endpoint is called: offline, and
    // nothing stored.
    let backend = Backend::open(Kind::Embedded).await;
    let handler = handler(&backend, false).await;
    let forged = with_params(sample(), |name, value| match name {
        "signature" => super::one_character_off(value),
        _ => value.to_owned(),
    });
    let response = handler
        .handle(lambda_runtime::LambdaEvent::new(forged, Default::default()))
        .await
        .expect("answered");
    assert_eq!(response.status_code, 401, "{:?}", response.body);
    let tenant = tenant_id_for(&url::Url::parse(&format!("{SAMPLE_SHOP}/api")).expect("url"))
        .expect("an id");
    // `-` in the host becomes `_`: ids are collision-free (docs/ONBOARDING.md, "Tenant ids").
    assert_eq!(tenant.as_str(), "sample_shop-beyondshop-cloud");
    assert!(
        backend
            .stores
            .tenants
            .get(&tenant)
            .await
            .expect("reads")
            .is_none(),
        "a refused install creates no tenant"
    );
}

/// The sample moved onto `sandbox`'s shop: the shop URLs rebased, a fresh code, signed with
/// the sample secret.
fn on_sandbox(
    sandbox: &SandboxHandle,
    signature_change: fn(&str) -> String,
) -> LambdaFunctionUrlRequest {
    let api_url = sandbox.shop_api_url(SHOP);
    let base = api_url.trim_end_matches("/api").to_owned();
    let code = sandbox.issue_authorization_code(SHOP).expect("a code");
    let token_url = format!("{api_url}/oauth/token");
    let signature = signature_change(&install_signature(
        &SecretString::from(SAMPLE_SECRET.to_owned()),
        &code,
        &token_url,
    ));
    with_params(sample(), |name, value| match name {
        "code" => code.clone(),
        "signature" => signature.clone(),
        _ => match value.strip_prefix(SAMPLE_SHOP) {
            Some(path) => format!("{base}{path}"),
            None => value.to_owned(),
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_on_the_sandbox_shop_installs_the_tenant_and_a_forged_one_nothing() {
    let backend = Backend::open(Kind::Embedded).await;
    let sandbox = super::sample_shop().await;
    let handler = handler(&backend, true).await;
    let tenant =
        tenant_id_for(&url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("url")).expect("id");

    let forged = on_sandbox(&sandbox, super::one_character_off);
    let response = handler
        .handle(lambda_runtime::LambdaEvent::new(forged, Default::default()))
        .await
        .expect("answered");
    assert_eq!(response.status_code, 401, "{:?}", response.body);
    assert!(
        backend
            .stores
            .tenants
            .get(&tenant)
            .await
            .expect("reads")
            .is_none(),
        "a forged install creates no tenant"
    );

    let request = on_sandbox(&sandbox, str::to_owned);
    let expected_location = request
        .query_string_parameters
        .get("return_url")
        .cloned()
        .unwrap_or_default();
    let response = handler
        .handle(lambda_runtime::LambdaEvent::new(
            request,
            Default::default(),
        ))
        .await
        .expect("answered");
    assert_eq!(response.status_code, 302, "{:?}", response.body);
    let location = response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(location, expected_location);

    let installed = backend
        .stores
        .tenants
        .get(&tenant)
        .await
        .expect("reads")
        .expect("the tenant is created");
    assert_eq!(installed.auth_mode, AuthMode::AuthorizationCode);
    assert_eq!(installed.client_id, CLIENT_ID);
    let tokens = backend
        .stores
        .tokens
        .get(&tenant)
        .await
        .expect("reads")
        .expect("tokens stored");
    assert!(tokens.refresh_token.is_some());
    let signer = backend
        .stores
        .secrets
        .get(&signer_secret_ref(&backend.naming, &tenant))
        .await
        .expect("reads");
    assert!(signer.is_some(), "the webhook signer is stored");
}
