//! `schedule-polls.json`: the EventBridge "Scheduled Event" of the 5-minute rule.

use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use connector::lambda::SchedulePolls;
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::pipeline::schedule::{ScheduleSettings, Scheduler};

use super::{World, drain, event, files};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_event_enqueues_a_poll_request_for_the_tenant() {
    let world = World::start().await;
    let poll = crate::support::embedded::queue_pair(QueueSpec::standard("poll")).await;
    // No spread (`SCHEDULE_SPREAD_SECONDS=0`), so the request is visible at once.
    let settings = ScheduleSettings {
        spread: Duration::ZERO,
        ..ScheduleSettings::default()
    };
    let handler = SchedulePolls::new(Scheduler::new(
        world.backend.stores.tenants.clone(),
        poll.queue.clone(),
        world.backend.dyn_clock(),
        settings,
    ));

    let sample =
        event::<EventBridgeEvent<serde_json::Value>>("schedule-polls.json", files::SCHEDULE_POLLS);
    assert_eq!(sample.payload.detail_type, "Scheduled Event");
    assert_eq!(sample.payload.source, "aws.events");
    let summary = handler
        .handle(sample)
        .await
        .expect("the scheduler runs on the sample event");
    assert_eq!(
        (summary.tenants_listed, summary.enqueued),
        (1, 1),
        "{summary:?}"
    );

    let messages = drain(poll.queue.as_ref(), Duration::from_millis(200)).await;
    let requests: Vec<PollRequest> = messages
        .iter()
        .map(|m| PollRequest::parse(&m.body).expect("a poll request"))
        .collect();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].tenant, world.tenant);
    assert_eq!(requests[0].trigger, PollTrigger::Schedule);
}
