//! The public-app install callback (Lambda Function URL `install-app`).
//!
//! ePages redirects the merchant to us with `code`, `signature`, `return_url`, `api_url`
//! and `access_token_url`. We check the signature (base64 HMAC-SHA1 of
//! `code:access_token_url`, keyed with the app's client secret, compared in constant
//! time) and that every URL is on an allowed shop host, BEFORE sending the client
//! credentials anywhere. Then: exchange the code, create or keep the tenant, store the
//! tokens, register a signer and the webhook subscriptions, and redirect to `return_url`.
//! Refusals store nothing.

mod hosts;
mod ids;
mod signature;

use std::sync::Arc;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use secrecy::SecretString;
use url::Url;

pub use hosts::HostPolicy;
pub use ids::{legacy_tenant_id_for, same_shop, tenant_id_for};
pub use signature::{install_signature, install_signature_sha256, verify_install_signature};

use crate::auth::stored_tokens_expiry;
use crate::config::{self, ConfigError};
use crate::epages_webhook::json_response;
use crate::epages_webhook::registration::register_webhooks;
use crate::ports::secrets::SecretNaming;
use crate::ports::tenants::{CreateOutcome, UpdateOutcome};
use crate::ports::tokens::TokenPutOutcome;
use crate::ports::{Clock, StateStores, StoreError};
use beyond::{BeyondClient, BeyondError, BeyondHttp, HttpSettings, StaticToken, TokenEndpoint};
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::tenant::{AuthMode, SecretRef, TenantConfig, TenantId};
use domain::tokens::TenantTokens;

/// The event types every installed shop is subscribed to.
pub use crate::epages_webhook::registration::SUBSCRIBED_EVENTS;

/// Typed configuration of the public app, read from the environment once.
#[derive(Clone, Debug)]
pub struct InstallConfig {
    /// `PUBLIC_APP_CLIENT_ID`.
    pub client_id: String,
    /// `{SECRETS_PREFIX}/apps/{PUBLIC_APP_NAME}/client-secret` (`PUBLIC_APP_NAME`
    /// defaults to `public`).
    pub client_secret: SecretRef,
    /// `SECRETS_PREFIX`.
    pub secrets: SecretNaming,
    /// `ALLOWED_SHOP_HOSTS` (default `*.beyondshop.cloud`) and `ALLOW_LOOPBACK_SHOPS`
    /// (`true` only for local runs and tests).
    pub hosts: HostPolicy,
    /// `EPAGES_WEBHOOK_URL`: the webhook function's public URL.
    pub webhook_url: Url,
    pub http: HttpSettings,
}

impl InstallConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let required = config::required;
        let invalid = |name: &'static str| move |reason: String| ConfigError::invalid(name, reason);
        let secrets = SecretNaming::new(required("SECRETS_PREFIX")?)
            .map_err(|e| invalid("SECRETS_PREFIX")(e.to_string()))?;
        let app = config::optional("PUBLIC_APP_NAME")?.unwrap_or_else(|| "public".to_owned());
        let allow_loopback = config::flag("ALLOW_LOOPBACK_SHOPS")?.unwrap_or(false);
        let patterns = config::optional("ALLOWED_SHOP_HOSTS")?
            .unwrap_or_else(|| HostPolicy::DEFAULT_PATTERNS.to_owned());
        let hosts =
            HostPolicy::parse(&patterns, allow_loopback).map_err(invalid("ALLOWED_SHOP_HOSTS"))?;
        let webhook_url = Url::parse(&required("EPAGES_WEBHOOK_URL")?)
            .map_err(|e| invalid("EPAGES_WEBHOOK_URL")(e.to_string()))?;
        Ok(Self {
            client_id: required("PUBLIC_APP_CLIENT_ID")?,
            client_secret: secrets.app_client_secret(&app),
            secrets,
            hosts,
            webhook_url,
            http: HttpSettings::default(),
        })
    }
}

/// The callback's parameters.
#[derive(Clone, Default)]
pub struct InstallParams {
    pub code: Option<String>,
    pub signature: Option<String>,
    pub return_url: Option<String>,
    pub api_url: Option<String>,
    pub access_token_url: Option<String>,
}

impl std::fmt::Debug for InstallParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code is a credential until it is exchanged.
        f.debug_struct("InstallParams")
            .field("api_url", &self.api_url)
            .field("return_url", &self.return_url)
            .finish_non_exhaustive()
    }
}

impl InstallParams {
    /// From a raw query string (percent- and `+`-decoded).
    pub fn from_query(query: &str) -> Self {
        let mut params = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut params.code,
                "signature" => &mut params.signature,
                "return_url" => &mut params.return_url,
                "api_url" => &mut params.api_url,
                "access_token_url" => &mut params.access_token_url,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        params
    }
}

/// Why an install was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("missing parameter {0}")]
    MissingParam(&'static str),
    #[error("parameter {field} is not a valid URL")]
    InvalidUrl { field: &'static str },
    #[error("parameter {field} is not allowed: {reason}")]
    DisallowedUrl { field: &'static str, reason: String },
    #[error("the signature is missing or invalid")]
    BadSignature,
    #[error("the public app's client secret {0} is not stored")]
    MissingAppSecret(SecretRef),
    #[error("the shop refused the authorization code")]
    CodeRejected(#[source] Box<BeyondError>),
    #[error("the shop's token endpoint failed")]
    TokenEndpoint(#[source] Box<BeyondError>),
    #[error("the shop host {0:?} gives no valid tenant id")]
    TenantId(String),
    /// The derived id belongs to a tenant of another shop: never overwrite it.
    #[error("tenant {0} belongs to another shop")]
    OtherShop(TenantId),
    #[error("{what} failed")]
    Store {
        what: &'static str,
        #[source]
        source: Box<StoreError>,
    },
    #[error("the tenant kept changing while the install updated it")]
    Contended,
}

impl InstallError {
    pub fn status(&self) -> u16 {
        match self {
            InstallError::MissingParam(_)
            | InstallError::InvalidUrl { .. }
            | InstallError::DisallowedUrl { .. }
            | InstallError::CodeRejected(_)
            | InstallError::TenantId(_) => 400,
            InstallError::BadSignature => 401,
            InstallError::OtherShop(_) => 409,
            InstallError::TokenEndpoint(_) => 502,
            InstallError::MissingAppSecret(_)
            | InstallError::Store { .. }
            | InstallError::Contended => 500,
        }
    }
}

fn store(what: &'static str) -> impl FnOnce(StoreError) -> InstallError {
    move |source| InstallError::Store {
        what,
        source: Box::new(source),
    }
}

/// The result of a successful install.
#[derive(Debug, Clone)]
pub struct Installed {
    pub tenant: TenantId,
    /// Whether the tenant existed before (a reinstall keeps its configuration).
    pub reinstalled: bool,
    pub return_url: Url,
    /// Whether the signer and all subscriptions are in place (webhooks only speed things
    /// up; the scheduled poll works without them).
    pub webhooks_registered: bool,
}

/// The install handler with its dependencies.
#[derive(Clone)]
pub struct Installer {
    pub config: InstallConfig,
    pub stores: StateStores,
    pub clock: Arc<dyn Clock>,
}

impl Installer {
    /// Checks and performs one install.
    pub async fn install(&self, params: &InstallParams) -> Result<Installed, InstallError> {
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(InstallError::MissingParam("code"))?;
        let signature = params
            .signature
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(InstallError::MissingParam("signature"))?;
        let url_param =
            |field: &'static str, value: &Option<String>| -> Result<(String, Url), InstallError> {
                let raw = value
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .ok_or(InstallError::MissingParam(field))?;
                let url = Url::parse(raw).map_err(|_| InstallError::InvalidUrl { field })?;
                self.config.hosts.check(field, &url)?;
                Ok((raw.to_owned(), url))
            };
        let (_, return_url) = url_param("return_url", &params.return_url)?;
        let (_, api_url) = url_param("api_url", &params.api_url)?;
        let (raw_token_url, token_url) = url_param("access_token_url", &params.access_token_url)?;
        // The API is the shop's `/api` root: the path is unsigned, and a tenant id or a
        // client built from another path would name another shop (or nothing).
        self.config.hosts.check_api_root(&api_url)?;
        // The token endpoint and the merchant's way back belong to the same shop as the
        // API: the credentials go nowhere else, and we redirect to no other shop.
        for (field, url) in [
            ("access_token_url", &token_url),
            ("return_url", &return_url),
        ] {
            if !ids::same_origin(url, &api_url) {
                return Err(InstallError::DisallowedUrl {
                    field,
                    reason: "is not on the api_url's host".to_owned(),
                });
            }
        }
        let tenant_id = self.resolve_tenant_id(&api_url).await?;

        let app_secret = self
            .stores
            .secrets
            .get(&self.config.client_secret)
            .await
            .map_err(store("reading the app secret"))?
            .ok_or_else(|| InstallError::MissingAppSecret(self.config.client_secret.clone()))?;
        if !verify_install_signature(&app_secret, code, &raw_token_url, signature) {
            tracing::warn!(tenant = %tenant_id, "install callback with a missing or invalid signature");
            return Err(InstallError::BadSignature);
        }

        let http = BeyondHttp::new(&self.config.http)
            .map_err(|e| InstallError::TokenEndpoint(Box::new(e)))?;
        let endpoint = TokenEndpoint::new(
            http.clone(),
            token_url,
            self.config.client_id.clone(),
            app_secret,
        );
        let fetched_at = self.clock.now();
        let code = SecretString::from(code.to_owned());
        let response = endpoint.authorization_code(&code).await.map_err(|error| {
            if error.is_transient() {
                InstallError::TokenEndpoint(Box::new(error))
            } else {
                InstallError::CodeRejected(Box::new(error))
            }
        })?;
        tracing::info!(tenant = %tenant_id, scopes = %response.scope, "authorization code exchanged");

        let (tenant, reinstalled) = self.upsert_tenant(&tenant_id, &api_url).await?;
        let tokens = TenantTokens {
            access_token: response.access_token.clone(),
            access_expires_at: stored_tokens_expiry(fetched_at, response.expires_in),
            refresh_token: response.refresh_token.clone(),
            version: 0,
        };
        self.store_tokens(&tenant.id, tokens).await?;

        let client =
            BeyondClient::with_http(http, api_url, Arc::new(StaticToken(response.access_token)))
                .map_err(|e| InstallError::TokenEndpoint(Box::new(e)))?;
        let webhooks = register_webhooks(
            &self.stores,
            &self.config.secrets,
            &self.config.webhook_url,
            &client,
            &tenant.id,
        )
        .await;
        if let Err(error) = &webhooks {
            tracing::warn!(tenant = %tenant.id, error = %crate::auth::report(error), "webhook registration failed; the scheduled poll still runs");
        }
        self.log(
            &tenant.id,
            "app.install",
            webhooks
                .as_ref()
                .err()
                .map(|e| format!("webhooks not registered: {}", crate::auth::report(e))),
        )
        .await;
        tracing::info!(tenant = %tenant.id, reinstalled, "app installed");
        Ok(Installed {
            tenant: tenant.id,
            reinstalled,
            return_url,
            webhooks_registered: webhooks.is_ok(),
        })
    }

    /// The tenant id of the shop: the collision-free id, or the id an existing tenant of
    /// the same shop got under the old, lossy rule (docs/ONBOARDING.md, "Tenant ids").
    async fn resolve_tenant_id(&self, api_url: &Url) -> Result<TenantId, InstallError> {
        let id = tenant_id_for(api_url)?;
        let tenants = &self.stores.tenants;
        if tenants
            .get(&id)
            .await
            .map_err(store("reading the tenant"))?
            .is_some()
        {
            return Ok(id);
        }
        if let Ok(legacy) = legacy_tenant_id_for(api_url)
            && legacy != id
            && let Some(existing) = tenants
                .get(&legacy)
                .await
                .map_err(store("reading the tenant"))?
            && same_shop(&existing.api_url, api_url)
        {
            return Ok(legacy);
        }
        Ok(id)
    }

    /// Creates the tenant, or keeps an existing one's configuration when it is the same
    /// shop (a reinstall after an uninstall resumes it; an operator's pause stays). A
    /// tenant of another shop is never touched.
    async fn upsert_tenant(
        &self,
        id: &TenantId,
        api_url: &Url,
    ) -> Result<(TenantConfig, bool), InstallError> {
        for _ in 0..5 {
            let now = self.clock.now();
            match self
                .stores
                .tenants
                .get(id)
                .await
                .map_err(store("reading the tenant"))?
            {
                None => {
                    let mut config = TenantConfig::new(
                        id.clone(),
                        api_url.clone(),
                        AuthMode::AuthorizationCode,
                        self.config.client_id.clone(),
                        self.config.client_secret.clone(),
                        now,
                    );
                    config.mark_installed(now);
                    match self
                        .stores
                        .tenants
                        .create(config, now)
                        .await
                        .map_err(store("creating the tenant"))?
                    {
                        CreateOutcome::Created(created) => return Ok((created, false)),
                        CreateOutcome::AlreadyExists => continue,
                    }
                }
                Some(existing) => {
                    if !same_shop(&existing.api_url, api_url) {
                        tracing::warn!(tenant = %id, "install for another shop under an existing tenant id refused");
                        return Err(InstallError::OtherShop(id.clone()));
                    }
                    let mut updated = existing.clone();
                    updated.api_url = api_url.clone();
                    updated.auth_mode = AuthMode::AuthorizationCode;
                    updated.client_id = self.config.client_id.clone();
                    updated.client_secret = self.config.client_secret.clone();
                    updated.mark_installed(now);
                    match self
                        .stores
                        .tenants
                        .update(updated, now)
                        .await
                        .map_err(store("updating the tenant"))?
                    {
                        UpdateOutcome::Updated(config) => return Ok((config, true)),
                        UpdateOutcome::Stale { .. } | UpdateOutcome::NotFound => continue,
                    }
                }
            }
        }
        Err(InstallError::Contended)
    }

    /// Replaces the stored tokens, whatever version is there: a new code's tokens win.
    async fn store_tokens(
        &self,
        tenant: &TenantId,
        mut tokens: TenantTokens,
    ) -> Result<(), InstallError> {
        tokens.version = self
            .stores
            .tokens
            .get(tenant)
            .await
            .map_err(store("reading the tokens"))?
            .map_or(0, |current| current.version);
        for _ in 0..5 {
            match self
                .stores
                .tokens
                .put_if_version(tenant, &tokens)
                .await
                .map_err(store("storing the tokens"))?
            {
                TokenPutOutcome::Stored { .. } => return Ok(()),
                TokenPutOutcome::Stale { current } => {
                    tokens.version = current.map_or(0, |c| c.version)
                }
            }
        }
        Err(InstallError::Contended)
    }

    async fn log(&self, tenant: &TenantId, action: &str, problem: Option<String>) {
        let entry = ActivityEntry {
            tenant: tenant.clone(),
            entry_id: uuid::Uuid::new_v4().to_string(),
            at: self.clock.now(),
            entity: EntityRef {
                kind: EntityKind::Tenant,
                id: tenant.to_string(),
                number: None,
            },
            direction: Direction::EpagesToAfosto,
            action: action.to_owned(),
            outcome: if problem.is_some() {
                ActivityOutcome::Failed
            } else {
                ActivityOutcome::Ok
            },
            error: problem,
            correlation: Correlation::default(),
        };
        if let Err(error) = self.stores.activity.append(&[entry]).await {
            tracing::warn!(tenant = %tenant, error = %error, "cannot write the activity log");
        }
    }

    /// The Lambda Function URL shape: 302 to `return_url`, or the refusal's status.
    pub async fn handle_function_url(
        &self,
        request: &LambdaFunctionUrlRequest,
    ) -> LambdaFunctionUrlResponse {
        let params = InstallParams::from_query(request.raw_query_string.as_deref().unwrap_or(""));
        match self.install(&params).await {
            Ok(installed) => {
                let mut response = LambdaFunctionUrlResponse::default();
                response.status_code = 302;
                if let Ok(location) = http::HeaderValue::from_str(installed.return_url.as_str()) {
                    response.headers.insert(http::header::LOCATION, location);
                }
                response
            }
            Err(error) => {
                if error.status() >= 500 {
                    tracing::error!(error = %crate::auth::report(&error), "install failed");
                } else {
                    tracing::warn!(error = %crate::auth::report(&error), "install refused");
                }
                json_response(
                    error.status(),
                    &serde_json::json!({ "error": error.to_string() }),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_url_decoded() {
        let params = InstallParams::from_query(
            "code=a%2Bb&signature=x%2By%3D&api_url=https%3A%2F%2Fs.beyondshop.cloud%2Fapi",
        );
        assert_eq!(params.code.as_deref(), Some("a+b"));
        assert_eq!(params.signature.as_deref(), Some("x+y="));
        assert_eq!(
            params.api_url.as_deref(),
            Some("https://s.beyondshop.cloud/api")
        );
    }
}
