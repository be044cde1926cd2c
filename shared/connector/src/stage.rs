//! The queues of a stage and their settings, as template.yaml declares them. The AWS
//! provisioning (for tests on moto) and the embedded backend build a stage's queues from
//! the same specs, so a local run behaves like a deployed stack.

use std::time::Duration;

/// One source queue (and its `{name}-dlq` dead-letter queue).
#[derive(Clone, Debug)]
pub struct QueueSpec {
    /// Without `.fifo`; it is added for FIFO queues. The DLQ is `{name}-dlq`.
    pub name: String,
    pub fifo: bool,
    pub content_based_deduplication: bool,
    pub visibility_timeout: Duration,
    pub max_receive_count: u32,
}

impl QueueSpec {
    pub fn standard(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            fifo: false,
            content_based_deduplication: false,
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: 5,
        }
    }

    pub fn fifo(name: impl Into<String>) -> Self {
        Self {
            fifo: true,
            ..Self::standard(name)
        }
    }
}

/// Queue settings of a stage, as in template.yaml.
pub fn stage_queue_specs(stage: &str) -> [QueueSpec; 3] {
    let prefix = format!("epages-sync-{stage}");
    [
        QueueSpec {
            visibility_timeout: Duration::from_secs(720),
            ..QueueSpec::standard(format!("{prefix}-poll"))
        },
        QueueSpec {
            visibility_timeout: Duration::from_secs(360),
            ..QueueSpec::fifo(format!("{prefix}-order-events"))
        },
        QueueSpec {
            visibility_timeout: Duration::from_secs(360),
            ..QueueSpec::fifo(format!("{prefix}-commands"))
        },
    ]
}
