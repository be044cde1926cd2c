//! The points of a poll where a test can stop it as a crash would. The hooks themselves
//! exist only with the `testing` feature; production code calls a no-op.

#[cfg(feature = "testing")]
use domain::tenant::TenantId;

#[cfg(feature = "testing")]
use super::PollError;

/// The points of a poll at which a test can inject a crash (see `PollHooks`, with the `testing` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PollStep {
    /// The pre-send ledger states of imported orders are written, nothing sent yet.
    AfterPreSendWrite,
    /// The page's events are sent, the ledger not yet written.
    AfterSend,
    /// The ledger is written, the cursor not yet advanced.
    AfterLedgerWrite,
    /// Just before the cursor checkpoint.
    BeforeCheckpoint,
}

/// Called at every [`PollStep`]; an error aborts the poll there, as a crash would (the
/// lease is released so the test can re-run at once). Production uses [`NoHooks`].
#[cfg(feature = "testing")]
pub trait PollHooks: Send + Sync {
    fn at(&self, tenant: &TenantId, step: PollStep) -> Result<(), String>;
}

/// No injected failures.
#[cfg(feature = "testing")]
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

#[cfg(feature = "testing")]
impl PollHooks for NoHooks {
    fn at(&self, _tenant: &TenantId, _step: PollStep) -> Result<(), String> {
        Ok(())
    }
}

/// The test hook at `step` (the `testing` feature); nothing in production.
#[cfg(feature = "testing")]
pub(super) fn hook_at(
    hooks: &dyn PollHooks,
    tenant: &TenantId,
    step: PollStep,
) -> Result<(), PollError> {
    hooks
        .at(tenant, step)
        .map_err(|message| PollError::Injected { step, message })
}
