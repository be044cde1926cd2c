//! Test support: fixtures that build each port on the embedded adapter (temp directory)
//! or the AWS adapter (moto on loopback, uniquely named resources per test).

pub mod aws;
pub mod embedded;
pub mod log_buffer;

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use connector::ports::clock::truncate_to_millis;
use domain::tenant::TenantId;

/// A port under test plus whatever must live as long as it (a temp directory).
pub struct Fixture<P: ?Sized> {
    pub port: Arc<P>,
    _keep: Box<dyn Any + Send + Sync>,
}

impl<P: ?Sized> Fixture<P> {
    pub fn new(port: Arc<P>, keep: impl Any + Send + Sync) -> Self {
        Self {
            port,
            _keep: Box::new(keep),
        }
    }
}

/// A tenant id no other test uses, so tests can share one moto and run in parallel.
pub fn unique_tenant(prefix: &str) -> TenantId {
    let id = format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    TenantId::parse(&id).expect("generated tenant ids are valid")
}

/// "Now" for tests: the current time at millisecond precision, as stores keep it.
pub fn now() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}

/// Runs each contract test function on both backends, one `#[tokio::test]` per (backend,
/// contract): `contracts!(embedded: path::to::factory, aws: path::to::factory; a, b)`.
/// Each contract is an `async fn(Arc<dyn Port>)` in the calling module.
macro_rules! contracts {
    (embedded: $embedded:path, aws: $aws:path; $($name:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let fixture = $embedded().await;
                    super::$name(fixture.port.clone()).await;
                }
            )+
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let fixture = $aws().await;
                    super::$name(fixture.port.clone()).await;
                }
            )+
        }
    };
}

pub(crate) use contracts;

/// The built `epages-sync` binary beside this test binary (`target/<profile>/`). `cargo test
/// --workspace` does not build it for this package; `tests/run.sh` does, first.
pub fn cli_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let binary = dir.join("epages-sync");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p epages-sync` first (tests/run.sh builds it)",
        binary.display()
    );
    binary
}
