//! The install callback: collision-free tenant ids, the shop's own hosts, the API root,
//! the signature's accepted forms, and a re-install that keeps an operator's pause.

use connector::install::{
    install_signature, install_signature_sha256, legacy_tenant_id_for, tenant_id_for,
};
use connector::ports::Clock;
use connector::ports::tenants::UpdateOutcome;
use domain::tenant::{AuthMode, TenantConfig};
use sandbox::ShopConfig;
use secrecy::SecretString;

use crate::auth::install::{Harness, function_url_request, harness, install, shop_tenant};
use crate::auth::support::{CLIENT_ID, CLIENT_SECRET, Kind, both, token_calls};

both! {
    three_shops_whose_old_ids_collide_get_three_tenants => three_shops,
    an_install_never_overwrites_another_shops_tenant_and_finds_a_legacy_one => no_overwrite,
    urls_off_the_shops_own_api_root_are_refused_before_any_call => url_checks,
    sha256_doubly_encoded_and_spaced_signatures_are_accepted => signature_forms,
    a_reinstall_keeps_an_operators_pause => operator_pause,
}

/// The callback query for `shop` of the harness' sandbox with these parameters changed.
fn query_for(h: &Harness, shop: &str, edit: impl FnOnce(&mut Vec<(String, String)>)) -> String {
    let code = h.sandbox.issue_authorization_code(shop).expect("code");
    let api_url = h.sandbox.shop_api_url(shop);
    let token_url = format!("{api_url}/oauth/token");
    let signature = install_signature(
        &SecretString::from(CLIENT_SECRET.to_owned()),
        &code,
        &token_url,
    );
    let mut params = vec![
        ("code".to_owned(), code),
        ("signature".to_owned(), signature),
        (
            "return_url".to_owned(),
            format!("{}/cockpit/apps", h.sandbox.base_url()),
        ),
        ("api_url".to_owned(), api_url),
        ("access_token_url".to_owned(), token_url),
    ];
    edit(&mut params);
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

fn set(params: &mut [(String, String)], name: &str, value: &str) {
    for (key, current) in params.iter_mut() {
        if key == name {
            *current = value.to_owned();
        }
    }
}

fn get(params: &[(String, String)], name: &str) -> String {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

async fn answer(h: &Harness, query: String) -> (i64, Option<String>) {
    let response = h
        .installer
        .handle_function_url(&function_url_request(query))
        .await;
    (response.status_code, response.body)
}

/// Done-when 10.
async fn three_shops(kind: Kind) {
    let h = harness(kind).await;
    let names = ["my-shop", "my--shop", "my.shop"];
    for name in names {
        h.sandbox
            .register_shop(
                ShopConfig::new(name, CLIENT_ID, CLIENT_SECRET).token_lifetime_seconds(3600),
            )
            .expect("shop registers");
    }
    let mut ids = std::collections::BTreeSet::new();
    for name in names {
        let (status, body) = answer(&h, query_for(&h, name, |_| {})).await;
        assert_eq!(status, 302, "{name}: {body:?}");
        let api_url = url::Url::parse(&h.sandbox.shop_api_url(name)).expect("url");
        let id = tenant_id_for(&api_url).expect("id");
        let tenant = h
            .backend
            .stores
            .tenants
            .get(&id)
            .await
            .expect("reads")
            .expect("created");
        assert_eq!(tenant.api_url, api_url, "{name}: its own shop");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 3, "{ids:?}");
    // The same host names under .beyondshop.cloud: three ids too.
    let hosted: std::collections::BTreeSet<_> = names
        .iter()
        .map(|n| {
            tenant_id_for(
                &url::Url::parse(&format!("https://{n}.beyondshop.cloud/api")).expect("url"),
            )
            .expect("id")
        })
        .collect();
    assert_eq!(hosted.len(), 3, "{hosted:?}");
}

/// Done-when 10 (never an overwrite) and the legacy ids of docs/ONBOARDING.md.
async fn no_overwrite(kind: Kind) {
    let h = harness(kind).await;
    let id = shop_tenant(&h.sandbox);
    // Another shop's tenant already holds the id this shop derives.
    let other = url::Url::parse("https://someone-else.beyondshop.cloud/api").expect("url");
    let foreign = TenantConfig::new(
        id.clone(),
        other.clone(),
        AuthMode::ClientCredentials,
        "theirs",
        h.backend.naming.tenant_client_secret(&id),
        h.backend.clock.now(),
    );
    h.backend
        .stores
        .tenants
        .create(foreign, h.backend.clock.now())
        .await
        .expect("creates");
    let (status, body) = answer(&h, query_for(&h, crate::auth::support::SHOP, |_| {})).await;
    assert_eq!(status, 409, "{body:?}");
    let kept = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("kept");
    assert_eq!(kept.api_url, other, "never overwritten");
    assert!(
        h.backend
            .stores
            .tokens
            .get(&id)
            .await
            .expect("reads")
            .is_none()
    );

    // A tenant stored under the old id of the same shop is found and re-installed.
    h.backend.stores.tenants.delete(&id).await.expect("deletes");
    let api_url =
        url::Url::parse(&h.sandbox.shop_api_url(crate::auth::support::SHOP)).expect("url");
    let legacy = legacy_tenant_id_for(&api_url).expect("legacy id");
    assert_ne!(legacy, id);
    let old = TenantConfig::new(
        legacy.clone(),
        api_url,
        AuthMode::AuthorizationCode,
        CLIENT_ID,
        h.backend.naming.app_client_secret("public"),
        h.backend.clock.now(),
    );
    h.backend
        .stores
        .tenants
        .create(old, h.backend.clock.now())
        .await
        .expect("creates");
    let (status, body) = answer(&h, query_for(&h, crate::auth::support::SHOP, |_| {})).await;
    assert_eq!(status, 302, "{body:?}");
    assert!(
        h.backend
            .stores
            .tokens
            .get(&legacy)
            .await
            .expect("reads")
            .is_some()
    );
    assert!(
        h.backend
            .stores
            .tenants
            .get(&id)
            .await
            .expect("reads")
            .is_none()
    );
}

/// Done-when 11, 12, 13 and 14: each refused with 400 before any request leaves.
async fn url_checks(kind: Kind) {
    let h = harness(kind).await;
    let shop = crate::auth::support::SHOP;
    let mut cases: Vec<(&str, &str, String)> = vec![
        (
            "api_url",
            "other path",
            "https://shop.beyondshop.cloud/x/api".into(),
        ),
        (
            "api_url",
            "suffix host",
            "https://shop.beyondshop.cloud.evil.com/api".into(),
        ),
        (
            "api_url",
            "path trick",
            "https://evil.com/.beyondshop.cloud/api".into(),
        ),
        (
            "api_url",
            "userinfo",
            "https://x@shop.beyondshop.cloud/api".into(),
        ),
        (
            "api_url",
            "trailing dot",
            "https://shop.beyondshop.cloud./api".into(),
        ),
        ("api_url", "ip literal", "https://93.184.216.34/api".into()),
        ("api_url", "http", "http://shop.beyondshop.cloud/api".into()),
        (
            "return_url",
            "another shop",
            "https://other.beyondshop.cloud/cockpit".into(),
        ),
        (
            "access_token_url",
            "another allowed host",
            "https://other.beyondshop.cloud/api/oauth/token".into(),
        ),
    ];
    // The sandbox shop on the other loopback port is another shop too.
    cases.push((
        "return_url",
        "other port",
        "http://127.0.0.1:1/cockpit".into(),
    ));
    for (field, case, value) in cases {
        let (status, body) = answer(&h, query_for(&h, shop, |p| set(p, field, &value))).await;
        assert_eq!(status, 400, "{field} {case}: {body:?}");
    }
    // api_url and access_token_url both on another allowed host, token on yet another.
    let (status, body) = answer(
        &h,
        query_for(&h, shop, |p| {
            set(p, "api_url", "https://a.beyondshop.cloud/api");
            set(p, "return_url", "https://a.beyondshop.cloud/cockpit");
            set(
                p,
                "access_token_url",
                "https://b.beyondshop.cloud/api/oauth/token",
            );
        }),
    )
    .await;
    assert_eq!(status, 400, "{body:?}");
    // An upper-case host passes every URL check: the wrong signature is then the refusal
    // (401), so nothing is sent to the real host.
    let (status, body) = answer(
        &h,
        query_for(&h, shop, |p| {
            set(p, "api_url", "https://SHOP.BeyondShop.cloud/api");
            set(p, "return_url", "https://shop.beyondshop.cloud/cockpit");
            set(
                p,
                "access_token_url",
                "https://Shop.beyondshop.cloud/api/oauth/token",
            );
        }),
    )
    .await;
    assert_eq!(status, 401, "{body:?}");
    assert_eq!(token_calls(&h.sandbox), 0, "no outbound request");
    assert!(
        h.backend
            .stores
            .tenants
            .get(&shop_tenant(&h.sandbox))
            .await
            .expect("reads")
            .is_none()
    );
}

/// Done-when 15.
async fn signature_forms(kind: Kind) {
    let h = harness(kind).await;
    let shop = crate::auth::support::SHOP;
    let secret = SecretString::from(CLIENT_SECRET.to_owned());
    let sha256 = |p: &mut Vec<(String, String)>| {
        let signature =
            install_signature_sha256(&secret, &get(p, "code"), &get(p, "access_token_url"));
        set(p, "signature", &signature);
    };
    let doubly = |p: &mut Vec<(String, String)>| {
        let once: String =
            url::form_urlencoded::byte_serialize(get(p, "signature").as_bytes()).collect();
        set(p, "signature", &once);
    };
    assert_eq!(
        answer(&h, query_for(&h, shop, sha256)).await.0,
        302,
        "SHA-256"
    );
    assert_eq!(
        answer(&h, query_for(&h, shop, doubly)).await.0,
        302,
        "double encoding"
    );
    // `+` sent as a space: find a code whose signature has a `+`.
    let mut spaced = None;
    for _ in 0..200 {
        let query = query_for(&h, shop, |p| {
            let signature = get(p, "signature");
            if signature.contains('+') {
                // A raw `+` in the query is a space after decoding.
                set(p, "signature", &signature.replace('+', " "));
                p.push(("has_plus".into(), "1".into()));
            }
        });
        if query.contains("has_plus") {
            spaced = Some(query);
            break;
        }
    }
    let spaced = spaced.expect("some signature has a +");
    assert_eq!(answer(&h, spaced).await.0, 302, "+ as a space");
    // Anything else: 401.
    let thirty_two_zeros = format!("{}=", "A".repeat(43));
    let twenty_zeros = format!("{}=", "A".repeat(27));
    let twenty_eight = format!("{}Bw==", "BwcH".repeat(9));
    for (case, signature) in [
        ("28 bytes", twenty_eight.as_str()),
        ("32 zero bytes", thirty_two_zeros.as_str()),
        ("20 zero bytes", twenty_zeros.as_str()),
        ("not base64", "!!!"),
    ] {
        let (status, body) =
            answer(&h, query_for(&h, shop, |p| set(p, "signature", signature))).await;
        assert_eq!(status, 401, "{case}: {body:?}");
    }
}

/// Done-when 16.
async fn operator_pause(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    let mut tenant = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("exists");
    tenant.set_operator_pause(true);
    let UpdateOutcome::Updated(_) = h
        .backend
        .stores
        .tenants
        .update(tenant, h.backend.clock.now())
        .await
        .expect("updates")
    else {
        panic!("not updated");
    };
    install(&h).await;
    let after = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("exists");
    assert!(after.paused, "the operator's pause is kept");
    assert!(
        h.backend
            .stores
            .tokens
            .get(&id)
            .await
            .expect("reads")
            .is_some()
    );
}
