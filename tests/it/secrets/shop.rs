//! A tiny local shop whose token endpoint answers whatever the scenario says: the
//! malformed and echoing answers of issue 13 that the sandbox shop never gives.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

impl Answer {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            location: None,
        }
    }

    /// A redirect to `location` (on this shop, so a followed redirect would be counted).
    pub fn redirect(location: impl Into<String>) -> Self {
        Self {
            location: Some(location.into()),
            ..Self::new(302, "")
        }
    }
}

#[derive(Clone)]
struct Script {
    token: Arc<Mutex<Answer>>,
    /// `None`: API calls answer with an empty page.
    api: Arc<Mutex<Option<Answer>>>,
    token_requests: Arc<AtomicUsize>,
    api_requests: Arc<AtomicUsize>,
}

pub struct FakeShop {
    pub api_url: url::Url,
    script: Script,
    _server: tokio::task::JoinHandle<()>,
}

impl FakeShop {
    pub async fn start(token: Answer, api: Option<Answer>) -> Self {
        let script = Script {
            token: Arc::new(Mutex::new(token)),
            api: Arc::new(Mutex::new(api)),
            token_requests: Arc::default(),
            api_requests: Arc::default(),
        };
        let app = Router::new()
            .route("/api/oauth/token", post(token_endpoint))
            .fallback(api_endpoint)
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let address = listener.local_addr().expect("has an address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            api_url: url::Url::parse(&format!("http://{address}/api")).expect("valid"),
            script,
            _server: server,
        }
    }

    pub fn token_requests(&self) -> usize {
        self.script.token_requests.load(Ordering::SeqCst)
    }

    pub fn api_requests(&self) -> usize {
        self.script.api_requests.load(Ordering::SeqCst)
    }
}

fn respond(answer: &Answer) -> Response {
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        answer.body.clone(),
    )
        .into_response();
    if let Some(location) = answer
        .location
        .as_deref()
        .and_then(|l| axum::http::HeaderValue::from_str(l).ok())
    {
        response.headers_mut().insert("location", location);
    }
    response
}

async fn token_endpoint(State(script): State<Script>) -> Response {
    script.token_requests.fetch_add(1, Ordering::SeqCst);
    let answer = script
        .token
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    respond(&answer)
}

async fn api_endpoint(State(script): State<Script>) -> Response {
    script.api_requests.fetch_add(1, Ordering::SeqCst);
    let answer = script.api.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match answer {
        Some(answer) => respond(&answer),
        None => respond(&Answer::new(
            200,
            r#"{"_embedded":{"orders":[]},"_links":{},"page":{"size":50,"totalElements":0,"totalPages":0,"number":0}}"#,
        )),
    }
}
