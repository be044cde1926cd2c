//! Contract suites of the state and queue ports: each contract is written once against the
//! trait and runs on the embedded adapter (temp directory) and the AWS adapter (moto).
//! Run: `infra/tools.sh && source tests/moto/moto.sh && cargo test -p epages-sync-tests --test it ports`.

mod activity;
mod idempotency;
mod order_ledger;
mod poll_state;
mod queues;
mod secrets;
mod stock_marks;
mod template;
mod tenants;
mod tokens;
