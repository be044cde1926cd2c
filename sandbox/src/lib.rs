//! An emulated ePages Beyond shop: the API subset epages-sync uses, for many shops at once,
//! with an admin API to register shops, inject faults and read a request journal.

pub mod auth;
pub mod catalog;
pub mod clock;
pub mod core;
pub mod error;
pub mod faults;
pub mod journal;
pub mod money;
pub mod order;
pub mod shop;
pub mod webhooks;
