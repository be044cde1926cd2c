//! `POST /shops/{shop}/api/oauth/token`: HTTP Basic client authentication, grant parameters
//! in the query string (as documented and as the official SDK sends them) or, leniently, in
//! a form-encoded body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{Grant, check_client};
use crate::core::{Core, unknown_shop};
use crate::error::ApiError;
use crate::http::{Ids, Query};

pub async fn token(
    State(core): State<Arc<Core>>,
    ids: Ids,
    query: Query,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let shop_name = ids.text("shop");
    let mut params = query.to_map();
    if !params.contains_key("grant_type") {
        for (key, value) in url::form_urlencoded::parse(&body) {
            params
                .entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let now = core.clock.now();
    let token = {
        let mut state = core.lock();
        let state = &mut *state;
        let shop = state
            .shops
            .get(&shop_name)
            .ok_or_else(|| unknown_shop(&shop_name))?;
        check_client(shop, authorization)?;
        let grant = Grant::from_params(&params)?;
        state.tokens.exchange(shop, grant, now)?
    };
    let body = serde_json::to_string(&token)
        .map_err(|error| ApiError::internal(format!("cannot serialize the token: {error}")))?;
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
