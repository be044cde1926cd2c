//! Which hosts an install callback may point us at. The callback's `api_url` and
//! `access_token_url` decide where we send the app's client credentials, so a forged
//! callback must not be able to name its own server.

use url::{Host, Url};

use super::InstallError;

/// Allowed shop hosts: exact names or `*.suffix` wildcards, https only; loopback hosts
/// (any scheme) only when explicitly allowed, for tests and local runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPolicy {
    patterns: Vec<HostPattern>,
    allow_loopback: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.beyondshop.cloud` → `.beyondshop.cloud`: any subdomain, not the bare domain.
    Suffix(String),
}

impl Default for HostPolicy {
    fn default() -> Self {
        Self {
            patterns: vec![HostPattern::Suffix(".beyondshop.cloud".to_owned())],
            allow_loopback: false,
        }
    }
}

impl HostPolicy {
    pub const DEFAULT_PATTERNS: &'static str = "*.beyondshop.cloud";

    /// Parses a comma-separated list such as `*.beyondshop.cloud,shop.example.com`.
    pub fn parse(patterns: &str, allow_loopback: bool) -> Result<Self, String> {
        let mut parsed = Vec::new();
        for raw in patterns.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let lower = raw.to_ascii_lowercase();
            let pattern = match lower.strip_prefix("*.") {
                Some(suffix) if is_hostname(suffix) => HostPattern::Suffix(format!(".{suffix}")),
                None if is_hostname(&lower) => HostPattern::Exact(lower),
                _ => return Err(format!("{raw:?} is not a host name or *.domain pattern")),
            };
            parsed.push(pattern);
        }
        if parsed.is_empty() && !allow_loopback {
            return Err("no allowed hosts".to_owned());
        }
        Ok(Self {
            patterns: parsed,
            allow_loopback,
        })
    }

    pub fn allowing_loopback(mut self) -> Self {
        self.allow_loopback = true;
        self
    }

    /// Accepts `url` for the parameter `field`, or says why not.
    pub fn check(&self, field: &'static str, url: &Url) -> Result<(), InstallError> {
        let refuse = |reason: &str| InstallError::DisallowedUrl {
            field,
            reason: reason.to_owned(),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("must not carry credentials"));
        }
        let loopback = match url.host() {
            Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(refuse("has no host")),
        };
        if loopback {
            return if self.allow_loopback && matches!(url.scheme(), "http" | "https") {
                Ok(())
            } else {
                Err(refuse("loopback hosts are not allowed"))
            };
        }
        if url.scheme() != "https" {
            return Err(refuse("must use https"));
        }
        let Some(Host::Domain(domain)) = url.host() else {
            return Err(refuse("must name a host, not an IP address"));
        };
        let domain = domain.to_ascii_lowercase();
        // `shop.beyondshop.cloud.` resolves like the name without the dot, but is not
        // the name we allow (nor the one a tenant id is derived from).
        if domain.ends_with('.') || domain.split('.').any(str::is_empty) {
            return Err(refuse("the host name has an empty label"));
        }
        let allowed = self.patterns.iter().any(|pattern| match pattern {
            HostPattern::Exact(host) => domain == *host,
            HostPattern::Suffix(suffix) => {
                domain.len() > suffix.len() && domain.ends_with(suffix.as_str())
            }
        });
        if allowed {
            Ok(())
        } else {
            Err(refuse("the host is not an allowed shop host"))
        }
    }
}

impl HostPolicy {
    /// `api_url` is the shop's API root: `/api` (loopback sandbox shops: any path ending
    /// in `/api`, since they share one host), with no query or fragment.
    pub fn check_api_root(&self, api_url: &Url) -> Result<(), InstallError> {
        let refuse = |reason: &str| InstallError::DisallowedUrl {
            field: "api_url",
            reason: reason.to_owned(),
        };
        if api_url.query().is_some() || api_url.fragment().is_some() {
            return Err(refuse("must not carry a query or a fragment"));
        }
        let path = api_url.path();
        let path = path.strip_suffix('/').unwrap_or(path);
        let loopback = match api_url.host() {
            Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let root = if loopback && self.allow_loopback {
            path.ends_with("/api")
        } else {
            path == "/api"
        };
        if root {
            Ok(())
        } else {
            Err(refuse("must be the shop's /api root"))
        }
    }
}

fn is_hostname(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: &HostPolicy, url: &str) -> bool {
        policy
            .check("api_url", &Url::parse(url).expect("valid url"))
            .is_ok()
    }

    #[test]
    fn default_allows_beyondshop_subdomains_over_https_only() {
        let policy = HostPolicy::default();
        assert!(check(&policy, "https://myshop.beyondshop.cloud/api"));
        assert!(check(
            &policy,
            "https://MyShop.BeyondShop.cloud/api/oauth/token"
        ));
        assert!(!check(&policy, "http://myshop.beyondshop.cloud/api"));
        assert!(!check(&policy, "https://beyondshop.cloud/api"));
        assert!(!check(&policy, "https://evilbeyondshop.cloud/api"));
        assert!(!check(
            &policy,
            "https://myshop.beyondshop.cloud.evil.com/api"
        ));
        assert!(!check(
            &policy,
            "https://user:pw@myshop.beyondshop.cloud/api"
        ));
        assert!(!check(&policy, "http://127.0.0.1:8080/api"));
        assert!(!check(&policy, "https://93.184.216.34/api"));
        assert!(!check(&policy, "https://shop.beyondshop.cloud./api"));
        assert!(!check(&policy, "https://evil.com/.beyondshop.cloud/api"));
        assert!(!check(&policy, "https://x@shop.beyondshop.cloud/api"));
        assert!(!check(&policy, "https://[::2]/api"));
        let root = |url: &str| {
            policy
                .check_api_root(&Url::parse(url).expect("url"))
                .is_ok()
        };
        assert!(root("https://shop.beyondshop.cloud/api"));
        assert!(root("https://shop.beyondshop.cloud/api/"));
        assert!(!root("https://shop.beyondshop.cloud/x/api"));
        assert!(!root("https://shop.beyondshop.cloud/api/x"));
        assert!(!root("https://shop.beyondshop.cloud/api?x=1"));
        assert!(!root("http://127.0.0.1:1/shops/s1/api"));
        let local = HostPolicy::default().allowing_loopback();
        assert!(
            local
                .check_api_root(&Url::parse("http://127.0.0.1:1/shops/s1/api").expect("url"))
                .is_ok()
        );
    }

    #[test]
    fn loopback_only_when_allowed_and_patterns_parse() {
        let policy =
            HostPolicy::parse("*.beyondshop.cloud, shop.example.com", true).expect("parses");
        assert!(check(&policy, "http://127.0.0.1:8080/shops/s1/api"));
        assert!(check(&policy, "http://localhost:1/api"));
        assert!(check(&policy, "https://shop.example.com/api"));
        assert!(!check(&policy, "https://x.shop.example.com/api"));
        assert!(HostPolicy::parse("not a host", false).is_err());
        assert!(HostPolicy::parse("", false).is_err());
    }
}
