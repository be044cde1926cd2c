//! OAuth for the emulated shops: opaque random access and refresh tokens, single-use
//! authorization codes, refresh-token rotation, and scope checks for every operation.
//!
//! Errors follow Spring Security OAuth, which Beyond runs: the token endpoint answers 401
//! `{error: "unauthorized"}` for bad client credentials and 400 `invalid_grant` /
//! `invalid_request` / `unsupported_grant_type` for bad grants; the resource server answers
//! 401 (`unauthorized` without a token, `invalid_token` for an unknown, expired or foreign
//! one) and 403 `insufficient_scope` when the token lacks the operation's scope.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use beyond::model as m;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::core::Core;
use crate::error::ApiError;
use crate::shop::Shop;

#[derive(Debug, Clone)]
struct AccessGrant {
    shop: String,
    scopes: BTreeSet<String>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    shop: String,
    client_id: String,
    scopes: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct CodeGrant {
    shop: String,
    client_id: String,
}

/// All tokens and codes of one sandbox, keyed by their opaque value.
#[derive(Debug, Default)]
pub struct TokenStore {
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    codes: HashMap<String, CodeGrant>,
}

/// The grant a token request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode(String),
    RefreshToken(String),
}

impl Grant {
    /// Reads `grant_type` and its companion parameter.
    pub fn from_params(params: &HashMap<String, String>) -> Result<Self, ApiError> {
        let grant_type = params
            .get("grant_type")
            .filter(|value| !value.is_empty())
            .ok_or_else(|| {
                ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing grant type",
                )
            })?;
        let required = |name: &str, what: &str| {
            params
                .get(name)
                .filter(|value| !value.is_empty())
                .cloned()
                .ok_or_else(|| {
                    ApiError::oauth(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        format!("{what} must be supplied."),
                    )
                })
        };
        match grant_type.as_str() {
            "client_credentials" => Ok(Grant::ClientCredentials),
            "authorization_code" => Ok(Grant::AuthorizationCode(required(
                "code",
                "An authorization code",
            )?)),
            "refresh_token" => Ok(Grant::RefreshToken(required(
                "refresh_token",
                "A refresh token",
            )?)),
            other => Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Unsupported grant type: {other}"),
            )),
        }
    }
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

impl TokenStore {
    /// A single-use authorization code for the shop's app, as the install callback would
    /// deliver it.
    pub fn issue_code(&mut self, shop: &Shop) -> String {
        let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        self.codes.insert(
            code.clone(),
            CodeGrant {
                shop: shop.name.clone(),
                client_id: shop.client_id.clone(),
            },
        );
        code
    }

    /// The token endpoint after the client authenticated.
    pub fn exchange(
        &mut self,
        shop: &Shop,
        grant: Grant,
        now: DateTime<Utc>,
    ) -> Result<m::TokenResponse, ApiError> {
        let (scopes, with_refresh) = match grant {
            Grant::ClientCredentials => (shop.scopes.clone(), false),
            Grant::AuthorizationCode(code) => {
                let valid = self
                    .codes
                    .get(&code)
                    .is_some_and(|g| g.shop == shop.name && g.client_id == shop.client_id);
                if !valid {
                    return Err(ApiError::oauth(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "Invalid authorization code",
                    ));
                }
                self.codes.remove(&code);
                (shop.scopes.clone(), true)
            }
            Grant::RefreshToken(token) => {
                let grant = self
                    .refresh
                    .get(&token)
                    .filter(|g| g.shop == shop.name && g.client_id == shop.client_id)
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::oauth(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "Invalid refresh token",
                        )
                    })?;
                // Rotation: the used refresh token stops working.
                self.refresh.remove(&token);
                (grant.scopes, true)
            }
        };
        let access_token = random_token();
        self.access.insert(
            access_token.clone(),
            AccessGrant {
                shop: shop.name.clone(),
                scopes: scopes.clone(),
                expires_at: i64::try_from(shop.token_lifetime_secs)
                    .ok()
                    .and_then(Duration::try_seconds)
                    .and_then(|lifetime| now.checked_add_signed(lifetime))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            },
        );
        let refresh_token = with_refresh.then(|| {
            let token = random_token();
            self.refresh.insert(
                token.clone(),
                RefreshGrant {
                    shop: shop.name.clone(),
                    client_id: shop.client_id.clone(),
                    scopes: scopes.clone(),
                },
            );
            SecretString::from(token)
        });
        Ok(m::TokenResponse {
            access_token: SecretString::from(access_token),
            token_type: Some("bearer".to_owned()),
            refresh_token,
            expires_in: Some(shop.token_lifetime_secs),
            scope: scopes.iter().collect(),
            tenant_id: Some(shop.tenant_id),
            iat: Some(now.timestamp()),
            jti: Some(STANDARD.encode(rand::random::<[u8; 20]>())),
        })
    }

    /// Makes every access token of a shop expire now (refresh tokens stay valid).
    pub fn expire_access_tokens(&mut self, shop: &str, now: DateTime<Utc>) {
        for grant in self.access.values_mut().filter(|g| g.shop == shop) {
            grant.expires_at = now;
        }
    }

    /// Drops every token and code of a shop.
    pub fn revoke_all(&mut self, shop: &str) {
        self.access.retain(|_, grant| grant.shop != shop);
        self.refresh.retain(|_, grant| grant.shop != shop);
        self.codes.retain(|_, grant| grant.shop != shop);
    }

    /// The scopes of a bearer token valid for `shop` at `now`.
    fn authorize(
        &self,
        shop: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, ApiError> {
        let invalid = |description: &str| {
            ApiError::oauth(StatusCode::UNAUTHORIZED, "invalid_token", description).header(
                header::WWW_AUTHENTICATE,
                &format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
            )
        };
        let grant = self
            .access
            .get(token)
            .ok_or_else(|| invalid("Invalid access token"))?;
        if grant.shop != shop {
            return Err(invalid("The access token is not valid for this shop"));
        }
        if grant.expires_at <= now {
            return Err(invalid("Access token expired"));
        }
        Ok(grant.scopes.clone())
    }
}

/// Checks HTTP Basic client credentials against the shop's app, in constant time.
pub fn check_client(shop: &Shop, authorization: Option<&str>) -> Result<(), ApiError> {
    let unauthorized = |description: &str| {
        ApiError::oauth(StatusCode::UNAUTHORIZED, "unauthorized", description)
            .header(header::WWW_AUTHENTICATE, "Basic realm=\"oauth2/client\"")
    };
    let encoded = authorization
        .and_then(|value| {
            value
                .strip_prefix("Basic ")
                .or_else(|| value.strip_prefix("basic "))
        })
        .ok_or_else(|| unauthorized("Full authentication is required to access this resource"))?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| unauthorized("Failed to decode basic authentication token"))?;
    let (client_id, client_secret) = decoded
        .split_once(':')
        .ok_or_else(|| unauthorized("Invalid basic authentication token"))?;
    let id_ok = client_id.as_bytes().ct_eq(shop.client_id.as_bytes());
    let secret_ok = client_secret
        .as_bytes()
        .ct_eq(shop.client_secret.expose_secret().as_bytes());
    if bool::from(id_ok & secret_ok) {
        Ok(())
    } else {
        Err(unauthorized("Bad credentials"))
    }
}

/// An authenticated API caller: the shop the request addresses and the token's scopes.
#[derive(Debug, Clone)]
pub struct Caller {
    pub shop: String,
    scopes: BTreeSet<String>,
}

impl Caller {
    /// 403 `insufficient_scope` unless the token carries `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::oauth(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("Insufficient scope for this resource: {scope} is required"),
            )
            .header(
                header::WWW_AUTHENTICATE,
                &format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
            ))
        }
    }
}

/// The shop name of a request path `/shops/{shop}/api/...`.
pub fn shop_of_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/shops/")?;
    let (shop, rest) = rest.split_once('/')?;
    (rest == "api" || rest.starts_with("api/")).then_some(shop)
}

impl FromRequestParts<Arc<Core>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        core: &Arc<Core>,
    ) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path();
        let shop = shop_of_path(path)
            .ok_or_else(|| ApiError::not_found(path))?
            .to_owned();
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty());
        let now = core.clock.now();
        let state = core.lock();
        if !state.shops.contains_key(&shop) {
            return Err(ApiError::not_found(path));
        }
        let Some(token) = token else {
            return Err(ApiError::oauth(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Full authentication is required to access this resource",
            )
            .header(header::WWW_AUTHENTICATE, "Bearer realm=\"oauth2-resource\""));
        };
        let scopes = state.tokens.authorize(&shop, token, now)?;
        Ok(Caller { shop, scopes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::ShopConfig;

    fn shop() -> Shop {
        Shop::new(
            ShopConfig::new("demo", "client", "secret").scopes(&["ordr:r"]),
            1,
        )
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn client_credentials_are_checked() {
        let shop = shop();
        assert!(check_client(&shop, Some(&basic("client", "secret"))).is_ok());
        let wrong = check_client(&shop, Some(&basic("client", "nope"))).err();
        assert_eq!(wrong.map(|e| e.status), Some(StatusCode::UNAUTHORIZED));
        assert!(check_client(&shop, None).is_err());
        assert!(check_client(&shop, Some("Basic !!!")).is_err());
    }

    #[test]
    fn client_credentials_grant_has_no_refresh_token() {
        let shop = shop();
        let mut tokens = TokenStore::default();
        let response = tokens.exchange(&shop, Grant::ClientCredentials, Utc::now());
        assert!(response.is_ok_and(|r| r.refresh_token.is_none()));
    }

    #[test]
    fn codes_are_single_use_and_refresh_tokens_rotate() {
        let shop = shop();
        let mut tokens = TokenStore::default();
        let now = Utc::now();
        let code = tokens.issue_code(&shop);
        let first = tokens.exchange(&shop, Grant::AuthorizationCode(code.clone()), now);
        let refresh = first
            .ok()
            .and_then(|r| r.refresh_token)
            .map(|t| t.expose_secret().to_owned())
            .unwrap_or_default();
        assert!(
            tokens
                .exchange(&shop, Grant::AuthorizationCode(code), now)
                .is_err()
        );
        let second = tokens.exchange(&shop, Grant::RefreshToken(refresh.clone()), now);
        let rotated = second
            .ok()
            .and_then(|r| r.refresh_token)
            .map(|t| t.expose_secret().to_owned())
            .unwrap_or_default();
        assert_ne!(rotated, refresh);
        assert!(
            tokens
                .exchange(&shop, Grant::RefreshToken(refresh), now)
                .is_err()
        );
        assert!(
            tokens
                .exchange(&shop, Grant::RefreshToken(rotated), now)
                .is_ok()
        );
    }

    #[test]
    fn access_tokens_expire_and_are_bound_to_their_shop() {
        let shop = shop();
        let mut tokens = TokenStore::default();
        let now = Utc::now();
        let token = tokens
            .exchange(&shop, Grant::ClientCredentials, now)
            .map(|r| r.access_token.expose_secret().to_owned())
            .unwrap_or_default();
        assert!(tokens.authorize("demo", &token, now).is_ok());
        assert!(tokens.authorize("other", &token, now).is_err());
        let later = now + Duration::seconds(43_199);
        assert!(tokens.authorize("demo", &token, later).is_err());
    }

    #[test]
    fn grant_parameters_are_validated() {
        let params = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>()
        };
        assert_eq!(
            Grant::from_params(&params(&[("grant_type", "client_credentials")])).ok(),
            Some(Grant::ClientCredentials)
        );
        let missing = Grant::from_params(&params(&[])).err();
        assert_eq!(
            missing.map(|e| e.error_id().to_owned()).as_deref(),
            Some("invalid_request")
        );
        let unknown = Grant::from_params(&params(&[("grant_type", "password")])).err();
        assert_eq!(
            unknown.map(|e| e.error_id().to_owned()).as_deref(),
            Some("unsupported_grant_type")
        );
        assert!(Grant::from_params(&params(&[("grant_type", "authorization_code")])).is_err());
    }

    #[test]
    fn shop_is_read_from_the_path() {
        assert_eq!(shop_of_path("/shops/demo/api/orders"), Some("demo"));
        assert_eq!(shop_of_path("/shops/demo/api"), Some("demo"));
        assert_eq!(shop_of_path("/shops/demo/other"), None);
        assert_eq!(shop_of_path("/_sandbox/shops"), None);
    }
}
