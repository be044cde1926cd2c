//! An emulated ePages Beyond shop: the API subset epages-sync uses, for many shops at once,
//! with an admin API to register shops, inject faults and read a request journal.
//!
//! Start one with [`Sandbox::start`]; drive it over HTTP like a real shop (each shop's API is
//! at [`SandboxHandle::shop_api_url`]) and from Rust through the [`SandboxHandle`]. The
//! format of seed files and every deliberate choice where the real API is undocumented are
//! described in `shared/sandbox/README.md`.

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod core;
pub mod error;
pub mod faults;
pub mod handle;
pub mod http;
pub mod intercept;
pub mod journal;
pub mod money;
pub mod order;
pub mod paging;
pub mod routes;
pub mod seed;
pub mod server;
pub mod shop;
pub mod webhooks;

pub use beyond::model::{InvalidTimeZone, ShopTimeZone};
pub use error::ApiError;
pub use faults::{FaultKind, FaultSpec, FaultTrigger};
pub use handle::{Sandbox, SandboxError, SandboxHandle};
pub use journal::{JournalEntry, JournalFilter, Outcome};
pub use seed::{
    Seed, SeedAction, SeedLine, SeedOrder, SeedPaymentMethod, SeedProduct, SeedVariation,
};
pub use shop::ShopConfig;
