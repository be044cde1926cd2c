//! `tenant add --shop-time-zone`: an IANA zone is stored on the tenant; anything else is a
//! usage error naming the option, and nothing is stored.

use domain::tenant::{ShopTimeZone, TenantId};

use super::{add_args, run_cli, state};
use crate::auth::support::{Backend, Kind, both, sandbox_with_shop};

both! {
    add_stores_the_shop_time_zone_and_refuses_an_unknown_one => shop_time_zone,
}

async fn shop_time_zone(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;

    let mut unknown = add_args(&sandbox, "zoned-bad");
    unknown.extend([
        "--client-secret-stdin".into(),
        "--shop-time-zone".into(),
        "Europe/Atlantis".into(),
    ]);
    let run = run_cli(&backend, unknown, Some("s"), vec![]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--shop-time-zone"), "{}", run.stderr);
    let bad = TenantId::parse("zoned-bad").expect("valid");
    let stores = state(&backend).await;
    assert!(stores.tenants.get(&bad).await.expect("reads").is_none());
    drop(stores);

    let mut berlin = add_args(&sandbox, "zoned-ok");
    berlin.extend([
        "--client-secret-stdin".into(),
        "--shop-time-zone".into(),
        "Europe/Berlin".into(),
    ]);
    let run = run_cli(&backend, berlin, Some("s"), vec![]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ok = TenantId::parse("zoned-ok").expect("valid");
    let stored = state(&backend)
        .await
        .tenants
        .get(&ok)
        .await
        .expect("reads")
        .expect("stored");
    assert_eq!(
        stored.shop_time_zone,
        Some(ShopTimeZone::parse("Europe/Berlin").expect("a zone"))
    );
}
