//! The serve loop. It is hyper's HTTP/1 connection driver rather than `axum::serve` because
//! a dropped-connection fault must close the TCP connection without sending any response,
//! after the request was read: each connection gets a [`ConnectionKiller`] in its request
//! extensions, and when a handler pulls it the loop drops the connection on the spot.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::admin;
use crate::core::Core;
use crate::intercept::intercept;
use crate::routes;

/// How long a shutdown waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Closes the connection a request arrived on, without a response.
#[derive(Debug, Clone)]
pub struct ConnectionKiller(Arc<Notify>);

impl ConnectionKiller {
    pub fn kill(&self) {
        // `notify_one` keeps the permit if the connection task is not waiting right now.
        self.0.notify_one();
    }
}

/// The full application: shop APIs, admin API, fallbacks, and the intercepting middleware.
pub fn app(core: Arc<Core>) -> Router {
    routes::api()
        .merge(admin::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&core),
            intercept,
        ))
        .with_state(core)
}

/// The base URL clients use: an unspecified bind address (`0.0.0.0`) is reached through
/// loopback.
pub fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Accepts connections until `shutdown` flips, then lets open ones finish (bounded).
pub async fn serve(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _peer)) => serve_connection(stream, app.clone(), &graceful),
                    Err(error) => {
                        tracing::warn!(%error, "sandbox: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("sandbox: connections still open after the shutdown grace period");
    }
}

fn serve_connection(stream: TcpStream, app: Router, graceful: &GracefulShutdown) {
    let notify = Arc::new(Notify::new());
    let killer = ConnectionKiller(Arc::clone(&notify));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(killer.clone());
        app.clone().oneshot(request.map(Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        tokio::select! {
            result = connection => {
                if let Err(error) = result {
                    tracing::debug!(%error, "sandbox: connection ended with an error");
                }
            }
            () = notify.notified() => {
                // Dropping the connection closes the socket with no response written.
            }
        }
    });
}
