//! Tenant ids of installed shops, and what "the same shop" means.
//!
//! The id is derived from the shop's API URL so that a re-install finds its tenant. The
//! old rule replaced every non-alphanumeric character by `-` and folded runs, so
//! `my-shop`, `my--shop` and `my.shop` under `.beyondshop.cloud` shared one id and a
//! second install overwrote the first tenant. The rule now is injective on host names:
//! letters and digits stay, `.` becomes `-` and `-` becomes `_` (so the common hosts
//! without a hyphen keep their old id); a port follows as `--{port}` and a path prefix
//! before `/api` (loopback shops only) as `---{segments}`. Neither can be confused with
//! a host part, because a valid host name has no empty label and so never yields `--`.
//! Ids longer than [`TenantId::MAX_LEN`] end in 16 hex digits of a SHA-256 of the full
//! id. Whatever the rule, an install only ever updates a tenant whose stored API URL is
//! the same shop ([`same_shop`]).

use sha2::{Digest, Sha256};
use url::Url;

use super::InstallError;
use domain::tenant::TenantId;

/// The collision-free id of the shop at `api_url`.
pub fn tenant_id_for(api_url: &Url) -> Result<TenantId, InstallError> {
    let host = api_url.host_str().unwrap_or_default().to_ascii_lowercase();
    let refuse = || InstallError::TenantId(host.clone());
    let mut id = String::new();
    for c in host.chars() {
        id.push(match c {
            'a'..='z' | '0'..='9' => c,
            '.' => '-',
            '-' => '_',
            _ => return Err(refuse()),
        });
    }
    if id.is_empty() || id.contains("--") || id.ends_with('-') {
        // An empty label (`a..b`, a trailing dot): not a host name.
        return Err(refuse());
    }
    if let Some(port) = api_url.port() {
        id.push_str(&format!("--{port}"));
    }
    let path = api_url.path().trim_end_matches('/');
    let prefix = path.strip_suffix("/api").unwrap_or(path);
    if !prefix.is_empty() {
        id.push_str("--");
        let readable = prefix.split('/').skip(1).all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        if readable {
            id.push_str(&prefix.replace('-', "_").replace('/', "-"));
        } else {
            id.push_str(&format!(
                "-h{}",
                &hex::encode(Sha256::digest(prefix.as_bytes()))[..16]
            ));
        }
    }
    if id.len() > TenantId::MAX_LEN {
        let digest = hex::encode(Sha256::digest(id.as_bytes()));
        id.truncate(TenantId::MAX_LEN - 17);
        id = format!("{}-{}", id.trim_end_matches(['-', '_']), &digest[..16]);
    }
    TenantId::parse(&id).map_err(|_| refuse())
}

/// The id the old, lossy rule gave (tenants installed before the rule changed keep it;
/// the install looks it up only for the same shop).
pub fn legacy_tenant_id_for(api_url: &Url) -> Result<TenantId, InstallError> {
    let host = api_url.host_str().unwrap_or_default().to_ascii_lowercase();
    let mut raw = host.clone();
    if let Some(port) = api_url.port() {
        raw.push_str(&format!("-{port}"));
    }
    let path = api_url.path().trim_end_matches('/');
    let path = path.strip_suffix("/api").unwrap_or(path);
    raw.push_str(path);
    let mut id = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && (id.is_empty() || id.ends_with('-'))) {
            id.push(c);
        }
    }
    let mut id = id.trim_end_matches('-').to_owned();
    if id.len() > TenantId::MAX_LEN {
        let digest = hex::encode(Sha256::digest(raw.as_bytes()));
        id.truncate(TenantId::MAX_LEN - 13);
        id = format!("{}-{}", id.trim_end_matches('-'), &digest[..12]);
    }
    TenantId::parse(&id).map_err(|_| InstallError::TenantId(host))
}

/// Same scheme, host and port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether two API URLs name the same shop: same origin and the same API path.
pub fn same_shop(a: &Url, b: &Url) -> bool {
    same_origin(a, b) && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(url: &str) -> Option<String> {
        tenant_id_for(&Url::parse(url).expect("url"))
            .ok()
            .map(|id| id.to_string())
    }

    #[test]
    fn ids_are_collision_free_and_keep_the_common_form() {
        assert_eq!(
            id("https://myshop.beyondshop.cloud/api").as_deref(),
            Some("myshop-beyondshop-cloud")
        );
        assert_eq!(
            id("https://MyShop.beyondshop.cloud/api/").as_deref(),
            Some("myshop-beyondshop-cloud")
        );
        let ids: std::collections::BTreeSet<_> = [
            "https://my-shop.beyondshop.cloud/api",
            "https://my--shop.beyondshop.cloud/api",
            "https://my.shop.beyondshop.cloud/api",
            "https://my_shop.beyondshop.cloud/api",
            "https://my-shop.beyondshop.cloud:8443/api",
            "https://my-shop-beyondshop.cloud/api",
        ]
        .into_iter()
        .filter_map(id)
        .collect();
        assert_eq!(ids.len(), 5, "{ids:?}"); // `my_shop` is not a host name
        assert_eq!(
            id("http://127.0.0.1:8080/shops/s1/api").as_deref(),
            Some("127-0-0-1--8080---shops-s1")
        );
        assert_ne!(
            id("http://127.0.0.1:8080/shops/a.b/api"),
            id("http://127.0.0.1:8080/shops/a-b/api")
        );
        let long = format!("https://{}.beyondshop.cloud/api", "a".repeat(60));
        let long_id = id(&long).expect("long hosts are shortened");
        assert!(long_id.len() <= TenantId::MAX_LEN);
        assert_ne!(
            id(&long),
            id(&format!("https://{}.beyondshop.cloud/api", "a".repeat(61)))
        );
    }

    #[test]
    fn the_legacy_rule_is_kept_for_lookups() {
        let legacy = |url: &str| {
            legacy_tenant_id_for(&Url::parse(url).expect("url"))
                .ok()
                .map(|id| id.to_string())
        };
        assert_eq!(
            legacy("https://my-shop.beyondshop.cloud/api"),
            legacy("https://my.shop.beyondshop.cloud/api")
        );
        assert_eq!(
            legacy("http://127.0.0.1:8080/shops/s1/api").as_deref(),
            Some("127-0-0-1-8080-shops-s1")
        );
    }

    #[test]
    fn same_shop_compares_origin_and_path() {
        let u = |s: &str| Url::parse(s).expect("url");
        assert!(same_shop(
            &u("https://a.beyondshop.cloud/api"),
            &u("https://A.beyondshop.cloud/api/")
        ));
        assert!(!same_shop(
            &u("https://a.beyondshop.cloud/api"),
            &u("https://b.beyondshop.cloud/api")
        ));
        assert!(!same_shop(
            &u("http://127.0.0.1:1/shops/a/api"),
            &u("http://127.0.0.1:1/shops/b/api")
        ));
    }
}
