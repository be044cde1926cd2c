//! `epages-sync status | log | dlq` as an operator runs them: the real binary on the
//! embedded state directory and on moto. The embedded files belong to one process at a
//! time, so the test seeds them, lets go, runs the CLI, and reopens them to check.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::SqsQueue;
use aws_adapters::provision::{create_queue_pair, stage_queue_specs};
use chrono::{DateTime, TimeDelta, Utc};
use connector::pipeline::sqs_batch::dead_letter_attributes::{REASON, SOURCE_MESSAGE_ID};
use connector::ports::poll_state::{PollRecord, UnleasedOutcome, UnleasedWrite};
use connector::ports::queue::{OutgoingMessage, ReceivedMessage, StageQueues};
use connector::ports::{MessageQueue, SystemClock};
use domain::activity::{ActivityEntry, ActivityOutcome, Correlation, Direction, EntityRef};
use domain::tenant::{AuthMode, TenantConfig, TenantId};

use crate::auth::support::{Backend, Kind, both};

mod json_output;
mod parity;
use crate::support::aws as aws_support;

both! {
    status_shows_activity_failures_and_dead_letters => status,
    log_by_tenant_order_number_and_sku => log,
    dlq_list_and_show_without_consuming => dlq_list_show,
    replay_keeps_fifo_groups_in_order => replay_fifo,
    replay_all_moves_every_queue_and_empty_is_fine => replay_all,
}

/// A backend plus the stage queues the CLI opens, and the environment naming them.
struct Ops {
    backend: Backend,
    /// AWS: the queues, connected once. Embedded: `None`, opened fresh per use.
    aws_queues: Option<StageQueues>,
    env: Vec<(&'static str, String)>,
}

impl Ops {
    async fn open(kind: Kind) -> Self {
        let backend = Backend::open(kind).await;
        let Some(aws) = &backend.aws else {
            return Self {
                backend,
                aws_queues: None,
                env: Vec::new(),
            };
        };
        let sdk = aws_support::sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let stage = aws_support::unique("ops");
        let mut urls = Vec::new();
        for spec in stage_queue_specs(&stage) {
            let pair = create_queue_pair(&sqs, &spec)
                .await
                .unwrap_or_else(|e| panic!("creating queues {} on moto failed: {e}", spec.name));
            urls.push(pair);
        }
        let connect = |url: String| {
            let sqs = sqs.clone();
            async move {
                let queue: Arc<dyn MessageQueue> = Arc::new(
                    SqsQueue::connect(sqs, url)
                        .await
                        .expect("connects to the queue"),
                );
                queue
            }
        };
        let queues = StageQueues {
            poll: connect(urls[0].queue_url.clone()).await,
            poll_dead_letters: connect(urls[0].dead_letter_url.clone()).await,
            order_events: connect(urls[1].queue_url.clone()).await,
            order_events_dead_letters: connect(urls[1].dead_letter_url.clone()).await,
            commands: connect(urls[2].queue_url.clone()).await,
            command_dead_letters: connect(urls[2].dead_letter_url.clone()).await,
        };
        let env = vec![
            ("STATE_TABLE", aws.state_table.clone()),
            ("ACTIVITY_TABLE", aws.activity_table.clone()),
            ("SECRETS_PREFIX", aws.secrets.prefix().to_owned()),
            ("SECRETS_CACHE_SECONDS", "0".to_owned()),
            ("POLL_QUEUE_URL", urls[0].queue_url.clone()),
            ("POLL_DLQ_URL", urls[0].dead_letter_url.clone()),
            ("ORDER_EVENTS_QUEUE_URL", urls[1].queue_url.clone()),
            ("ORDER_EVENTS_DLQ_URL", urls[1].dead_letter_url.clone()),
            ("COMMAND_QUEUE_URL", urls[2].queue_url.clone()),
            ("COMMAND_DLQ_URL", urls[2].dead_letter_url.clone()),
        ];
        Self {
            backend,
            aws_queues: Some(queues),
            env,
        }
    }

    /// The queues as they are now: embedded ones are reopened from their files (after the
    /// CLI wrote them); drop them before the next CLI run.
    async fn queues(&self) -> StageQueues {
        match (&self.aws_queues, &self.backend.dir) {
            (Some(queues), _) => queues.clone(),
            (None, Some(dir)) => {
                // The CLI runs on the system clock: messages it sends are visible from then on.
                ::embedded::open_stage_queues(dir, Arc::new(SystemClock))
                    .await
                    .expect("embedded queues open")
            }
            (None, None) => panic!("a backend has a directory or AWS config"),
        }
    }

    fn cli(&self, args: &[&str]) -> Run {
        let mut command = Command::new(crate::support::cli_binary());
        command.arg(args[0]);
        match &self.backend.dir {
            Some(dir) if self.aws_queues.is_none() => {
                command.arg("--state-dir").arg(dir);
            }
            _ => {
                command
                    .args(["--backend", "aws"])
                    .envs(self.env.iter().map(|(k, v)| (k, v)));
            }
        }
        let output = command
            .args(&args[1..])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("the CLI runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Blocking CLI runs must not stall the runtime (moto calls of other tests).
    async fn run(&self, args: &[&str]) -> Run {
        tokio::task::block_in_place(|| self.cli(args))
    }

    async fn tenant(&self, paused: bool) -> TenantId {
        let id = crate::support::unique_tenant("ops");
        let mut config = TenantConfig::new(
            id.clone(),
            url::Url::parse("https://ops.beyondshop.cloud/api").expect("url"),
            AuthMode::ClientCredentials,
            "client",
            self.backend.naming.tenant_client_secret(&id),
            Utc::now() - TimeDelta::days(10),
        );
        config.paused = paused;
        self.backend
            .stores
            .tenants
            .create(config, Utc::now())
            .await
            .expect("tenant created");
        id
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("one JSON document ({e}): {}", self.stdout))
    }

    fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    tenant: &TenantId,
    n: u32,
    at: DateTime<Utc>,
    entity: EntityRef,
    direction: Direction,
    action: &str,
    outcome: ActivityOutcome,
    error: Option<&str>,
) -> ActivityEntry {
    ActivityEntry {
        tenant: tenant.clone(),
        entry_id: format!("e{n:03}"),
        at,
        entity,
        direction,
        action: action.to_owned(),
        outcome,
        error: error.map(str::to_owned),
        correlation: Correlation {
            message_id: Some(format!("msg-{n}")),
            command_id: (direction == Direction::AfostoToEpages).then(|| format!("cmd-{n}")),
            event_id: None,
        },
    }
}

async fn send(queue: &dyn MessageQueue, messages: Vec<OutgoingMessage>) -> Vec<String> {
    let report = queue.send_batch(messages).await.expect("sent");
    report
        .results
        .into_iter()
        .map(|r| r.expect("each message sent").message_id)
        .collect()
}

fn fifo(body: &str, group: &str, reason: &str) -> OutgoingMessage {
    OutgoingMessage::fifo(body, group, uuid::Uuid::new_v4().simple().to_string())
        .with_attribute(REASON, reason)
        .with_attribute(SOURCE_MESSAGE_ID, format!("src-{body}"))
}

/// Everything on a queue, deleting as it goes; a FIFO group arrives in its order.
async fn drain(queue: &dyn MessageQueue) -> Vec<ReceivedMessage> {
    let mut all = Vec::new();
    loop {
        let batch = queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive");
        if batch.is_empty() {
            return all;
        }
        for message in &batch {
            queue.delete(&message.receipt_handle).await.expect("delete");
        }
        all.extend(batch);
    }
}

fn bodies_of_group<'a>(messages: &'a [ReceivedMessage], group: &str) -> Vec<&'a str> {
    messages
        .iter()
        .filter(|m| m.group_id.as_deref() == Some(group))
        .map(|m| m.body.as_str())
        .collect()
}

async fn status(kind: Kind) {
    let ops = Ops::open(kind).await;
    let tenant = ops.tenant(true).await;
    let now = Utc::now();
    let stores = &ops.backend.stores;
    let success = UnleasedWrite {
        cursor: None,
        record: PollRecord::Success {
            at: now - TimeDelta::minutes(20),
        },
    };
    // A fresh tenant's poll state is at version 0.
    let written = stores
        .poll_state
        .write_unleased(&tenant, 0, &success, now)
        .await
        .expect("success recorded");
    assert!(matches!(written, UnleasedOutcome::Written(_)));
    stores
        .poll_state
        .record_failure(&tenant, now - TimeDelta::minutes(5), "shop answered 503")
        .await
        .expect("failure recorded");
    let order = EntityRef::order("0b7e6a52-7d0f-4a8c-9d0e-3f6a1b2c4d5e", Some("1001".into()));
    let e = Direction::EpagesToAfosto;
    let a = Direction::AfostoToEpages;
    let entries = vec![
        entry(
            &tenant,
            1,
            now - TimeDelta::hours(2),
            order.clone(),
            e,
            "order.import",
            ActivityOutcome::Ok,
            None,
        ),
        entry(
            &tenant,
            2,
            now - TimeDelta::hours(1),
            order.clone(),
            e,
            "order.update",
            ActivityOutcome::Ok,
            None,
        ),
        entry(
            &tenant,
            3,
            now - TimeDelta::minutes(30),
            order.clone(),
            e,
            "order.update",
            ActivityOutcome::Failed,
            Some("schema"),
        ),
        entry(
            &tenant,
            4,
            now - TimeDelta::minutes(10),
            order.clone(),
            a,
            "command.cancel_order",
            ActivityOutcome::Failed,
            Some("order_not_found: gone"),
        ),
        entry(
            &tenant,
            5,
            now - TimeDelta::minutes(9),
            EntityRef::sku("SKU-1"),
            a,
            "command.adjust_stock",
            ActivityOutcome::Skipped,
            None,
        ),
        // Outside the 24-hour window: not counted.
        entry(
            &tenant,
            6,
            now - TimeDelta::hours(30),
            order,
            a,
            "command.ship_order",
            ActivityOutcome::Failed,
            Some("old"),
        ),
    ];
    stores.activity.append(&entries).await.expect("appended");
    {
        let queues = ops.queues().await;
        send(
            queues.command_dead_letters.as_ref(),
            vec![fifo(
                "cancel",
                &format!("{tenant}:order:1"),
                "order_not_found: gone",
            )],
        )
        .await;
    }

    // The shop's clock disagrees with the configured zone (docs/ORDER-EVENTS.md, "Shop time").
    let mut config = stores
        .tenants
        .get(&tenant)
        .await
        .expect("tenant reads")
        .expect("tenant exists");
    config.shop_time_zone = Some(domain::tenant::ShopTimeZone::utc());
    config.learned_shop_offset = config.learn_shop_offset(TimeDelta::hours(2), now);
    let updated = stores.tenants.update(config, now).await.expect("updates");
    assert!(matches!(
        updated,
        connector::ports::tenants::UpdateOutcome::Updated(_)
    ));

    let run = ops
        .run(&["status", "--tenant", tenant.as_str(), "--json"])
        .await;
    assert_eq!(run.code, 0, "status is informational: {}", run.stderr);
    let status = run.json();
    let t = &status["tenants"][0];
    let warning = t["shop_time_warning"]
        .as_str()
        .expect("a shop time warning");
    assert!(
        warning.contains("look like UTC+02:00") && warning.contains("says UTC"),
        "{warning}"
    );
    assert_eq!(t["tenant"], tenant.as_str());
    assert_eq!(t["paused"], true);
    assert_eq!(t["flows"]["orders"], true);
    assert_eq!(
        t["events"],
        serde_json::json!({"ok": 2, "skipped": 0, "failed": 1})
    );
    assert_eq!(
        t["commands"],
        serde_json::json!({"ok": 0, "skipped": 1, "failed": 1})
    );
    assert_eq!(t["last_error"]["message"], "shop answered 503");
    assert!(t["last_poll_success_at"].is_string());
    assert!(t["last_poll_attempt_at"].is_string());
    let lag = t["poll_lag_seconds"].as_i64().expect("a lag");
    assert!((20 * 60..40 * 60).contains(&lag), "lag {lag}");
    assert!(t.get("cursor").is_some());
    assert_eq!(t["attention"], true);
    assert_eq!(status["attention"], true);
    let queues = status["queues"].as_array().expect("queues");
    let names: Vec<&str> = queues.iter().filter_map(|q| q["queue"].as_str()).collect();
    assert_eq!(names, ["poll", "order-events", "commands"]);
    assert_eq!(queues[2]["dead_letters"], 1);
    assert_eq!(queues[0]["dead_letters"], 0);

    let run = ops.run(&["status", "--tenant", tenant.as_str()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(tenant.as_str()) && l.contains("PAUSED"))
        .unwrap_or_else(|| panic!("a tenant row: {}", run.stdout));
    assert!(line.trim_start().starts_with('!'), "stands out: {line}");
    assert!(line.contains("2/0/1") && line.contains("0/1/1"), "{line}");
    assert!(run.stdout.contains("shop answered 503"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "shop time of {tenant}: shop timestamps look like UTC+02:00"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with('!') && l.contains("commands")),
        "the dead letters stand out: {}",
        run.stdout
    );

    let run = ops.run(&["status", "--tenant", "no-such-tenant"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no tenant no-such-tenant"),
        "{}",
        run.stderr
    );
}

async fn log(kind: Kind) {
    let ops = Ops::open(kind).await;
    let tenant = ops.tenant(false).await;
    let now = Utc::now();
    let order_id = "0b7e6a52-7d0f-4a8c-9d0e-3f6a1b2c4d5e";
    let order = EntityRef::order(order_id, Some("1001".into()));
    let other = EntityRef::order("9c1d2e3f-0000-4a8c-9d0e-3f6a1b2c4d5e", Some("1002".into()));
    let e = Direction::EpagesToAfosto;
    let a = Direction::AfostoToEpages;
    let entries = vec![
        entry(
            &tenant,
            1,
            now - TimeDelta::days(2),
            order.clone(),
            e,
            "order.import",
            ActivityOutcome::Ok,
            None,
        ),
        entry(
            &tenant,
            2,
            now - TimeDelta::minutes(50),
            other,
            e,
            "order.import",
            ActivityOutcome::Ok,
            None,
        ),
        entry(
            &tenant,
            3,
            now - TimeDelta::minutes(40),
            order,
            a,
            "command.cancel_order",
            ActivityOutcome::Failed,
            Some("order_not_found: gone"),
        ),
        // Afosto named the order by number: logged under the number.
        entry(
            &tenant,
            4,
            now - TimeDelta::minutes(30),
            EntityRef::order("1001", Some("1001".into())),
            a,
            "command.ship_order",
            ActivityOutcome::Ok,
            None,
        ),
        entry(
            &tenant,
            5,
            now - TimeDelta::minutes(20),
            EntityRef::sku("SKU-1"),
            a,
            "command.adjust_stock",
            ActivityOutcome::Ok,
            None,
        ),
    ];
    ops.backend
        .stores
        .activity
        .append(&entries)
        .await
        .expect("appended");
    let t = tenant.as_str();
    let ids = |run: &Run| -> Vec<String> {
        run.json_lines()
            .iter()
            .map(|v| v["entry_id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };

    let run = ops.run(&["log", "--tenant", t, "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        ids(&run),
        ["e005", "e004", "e003", "e002", "e001"],
        "newest first"
    );
    let first = &run.json_lines()[2];
    assert_eq!(first["outcome"], "failed");
    assert_eq!(first["correlation"]["command_id"], "cmd-3");

    let run = ops
        .run(&["log", "--tenant", t, "--order", order_id, "--json"])
        .await;
    assert_eq!(ids(&run), ["e003", "e001"], "{}", run.stderr);
    let run = ops
        .run(&["log", "--tenant", t, "--order", "1001", "--json"])
        .await;
    assert_eq!(
        ids(&run),
        ["e004", "e003", "e001"],
        "by number: {}",
        run.stderr
    );
    let run = ops
        .run(&["log", "--tenant", t, "--sku", "SKU-1", "--json"])
        .await;
    assert_eq!(ids(&run), ["e005"]);
    let run = ops
        .run(&["log", "--tenant", t, "--since", "24h", "--json"])
        .await;
    assert_eq!(ids(&run), ["e005", "e004", "e003", "e002"]);
    let run = ops
        .run(&[
            "log", "--tenant", t, "--order", "1001", "--since", "1h", "--json",
        ])
        .await;
    assert_eq!(ids(&run), ["e004", "e003"]);
    let run = ops
        .run(&["log", "--tenant", t, "--limit", "2", "--json"])
        .await;
    assert_eq!(ids(&run), ["e005", "e004"]);

    let run = ops.run(&["log", "--tenant", t]).await;
    assert_eq!(run.code, 0);
    let failed = run
        .stdout
        .lines()
        .find(|l| l.contains("FAILED"))
        .unwrap_or_else(|| panic!("a failed row: {}", run.stdout));
    for part in [
        "afosto→epages",
        "command.cancel_order",
        "order_not_found: gone",
        "cmd=cmd-3",
        "(#1001)",
    ] {
        assert!(failed.contains(part), "{part} in {failed}");
    }

    let run = ops
        .run(&["log", "--tenant", t, "--since", "yesterday-ish"])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = ops.run(&["log", "--tenant", "Not Valid"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
}

async fn dlq_list_show(kind: Kind) {
    let ops = Ops::open(kind).await;
    let (cancel, poll) = {
        let queues = ops.queues().await;
        let cancel = send(
            queues.command_dead_letters.as_ref(),
            vec![
                fifo(
                    r#"{"type":"cancel_order","id":"c-1"}"#,
                    "t1:order:1",
                    "order_not_found: no order 1001",
                ),
                fifo(
                    r#"{"type":"ship_order","id":"c-2"}"#,
                    "t1:order:2",
                    "invalid: field `carrier`",
                ),
            ],
        )
        .await;
        // Dead-lettered after exhausting its retries: no reason attribute.
        let poll = send(
            queues.poll_dead_letters.as_ref(),
            vec![OutgoingMessage::new(r#"{"tenant":"t1"}"#)],
        )
        .await;
        (cancel, poll)
    };

    let run = ops.run(&["dlq", "list", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    let by_id = |id: &str| {
        lines
            .iter()
            .find(|l| l["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed: {}", run.stdout))
            .clone()
    };
    let c1 = by_id(&cancel[0]);
    assert_eq!(c1["queue"], "commands");
    assert_eq!(c1["group"], "t1:order:1");
    assert_eq!(c1["reason"], "order_not_found: no order 1001");
    // Sent straight to the dead-letter queue, never received: the embedded queue shows
    // that as it is; SQS can only look by receiving, which counts the look.
    match kind {
        Kind::Embedded => assert_eq!(c1["receive_count"], 0),
        Kind::Aws => assert!(c1["receive_count"].as_u64().is_some_and(|n| n >= 1)),
    }
    assert!(c1["age_seconds"].as_i64().is_some());
    let p = by_id(&poll[0]);
    assert_eq!(p["queue"], "poll");
    assert!(p["reason"].is_null());

    let run = ops.run(&["dlq", "list", "--queue", "commands"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("order_not_found: no order 1001"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("commands: 2 shown, depth 2"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(&poll[0]));
    let run = ops.run(&["dlq", "list", "--queue", "poll"]).await;
    assert!(run.stdout.contains("(retries exhausted)"), "{}", run.stdout);

    let run = ops.run(&["dlq", "show", &cancel[1]]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for part in [
        "invalid: field `carrier`",
        "t1:order:2",
        "\"ship_order\"",
        "src-",
    ] {
        assert!(run.stdout.contains(part), "{part} in {}", run.stdout);
    }
    let run = ops.run(&["dlq", "--json", "show", &cancel[1]]).await;
    let shown = run.json();
    assert_eq!(shown["body"], r#"{"type":"ship_order","id":"c-2"}"#);
    assert_eq!(shown["attributes"][REASON], "invalid: field `carrier`");

    if matches!(kind, Kind::Embedded) {
        // Looking (list, show, twice over) changed nothing it shows.
        let run = ops.run(&["dlq", "list", "--json"]).await;
        let counts: Vec<_> = run
            .json_lines()
            .iter()
            .map(|l| l["receive_count"].clone())
            .collect();
        assert_eq!(counts, [0, 0, 0], "{}", run.stdout);
    }

    let run = ops.run(&["dlq", "show", "no-such-message"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);

    // Looking consumed nothing.
    let queues = ops.queues().await;
    assert_eq!(
        queues
            .command_dead_letters
            .depth()
            .await
            .expect("depth")
            .total(),
        2
    );
    assert_eq!(
        queues
            .poll_dead_letters
            .depth()
            .await
            .expect("depth")
            .total(),
        1
    );
    assert_eq!(queues.commands.depth().await.expect("depth").total(), 0);
}

async fn replay_fifo(kind: Kind) {
    let ops = Ops::open(kind).await;
    let (g1, g2) = ("t1:order:1", "t1:order:2");
    let ids = {
        let queues = ops.queues().await;
        send(
            queues.command_dead_letters.as_ref(),
            vec![
                fifo("import-1", g1, "tenant_paused: paused"),
                fifo("cancel-1", g1, "tenant_paused: paused"),
                fifo("ship-2", g2, "tenant_paused: paused"),
            ],
        )
        .await
    };

    // The cancellation alone would overtake its order's import: refused, nothing moved.
    let run = ops
        .run(&[
            "dlq", "replay", "--queue", "commands", "--id", &ids[1], "--yes",
        ])
        .await;
    assert_eq!(run.code, 3, "refused: {} {}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&ids[0]) && run.stderr.contains("--group"),
        "{}",
        run.stderr
    );
    {
        let queues = ops.queues().await;
        assert_eq!(
            queues
                .command_dead_letters
                .depth()
                .await
                .expect("depth")
                .total(),
            3
        );
        assert_eq!(queues.commands.depth().await.expect("depth").total(), 0);
    }
    // Without --yes and without a terminal: a usage error, nothing moved.
    let run = ops.run(&["dlq", "replay", "--id", &ids[2]]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);

    // The head of its group replays alone.
    let run = ops
        .run(&["dlq", "replay", "--id", &ids[2], "--yes", "--json"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["queues"][0]["moved"], 1);

    // The whole group, in order.
    let run = ops
        .run(&[
            "dlq", "replay", "--queue", "commands", "--id", &ids[1], "--group", "--yes",
        ])
        .await;
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("2 message(s) replayed"),
        "{}",
        run.stdout
    );

    let queues = ops.queues().await;
    assert_eq!(
        queues
            .command_dead_letters
            .depth()
            .await
            .expect("depth")
            .total(),
        0
    );
    let back = drain(queues.commands.as_ref()).await;
    assert_eq!(bodies_of_group(&back, g1), ["import-1", "cancel-1"]);
    assert_eq!(bodies_of_group(&back, g2), ["ship-2"]);
    let cancel = back
        .iter()
        .find(|m| m.body == "cancel-1")
        .expect("replayed");
    assert_eq!(
        cancel.attributes.get(REASON).map(String::as_str),
        Some("tenant_paused: paused")
    );
}

async fn replay_all(kind: Kind) {
    let ops = Ops::open(kind).await;
    // Replaying nothing is fine.
    let run = ops.run(&["dlq", "replay", "--all", "--yes"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("nothing to replay"), "{}", run.stdout);

    let (ga, gb) = ("t1:order:a", "t1:order:b");
    {
        let queues = ops.queues().await;
        // Twelve messages in one group: more than one receive hands out.
        let mut events: Vec<OutgoingMessage> = (0..12)
            .map(|i| fifo(&format!("a-{i:02}"), ga, "consumer failed"))
            .collect();
        events.insert(3, fifo("b-00", gb, "consumer failed"));
        events.push(fifo("b-01", gb, "consumer failed"));
        for chunk in events.chunks(5) {
            send(queues.order_events_dead_letters.as_ref(), chunk.to_vec()).await;
        }
        send(
            queues.poll_dead_letters.as_ref(),
            vec![
                OutgoingMessage::new("poll-1"),
                OutgoingMessage::new("poll-2"),
            ],
        )
        .await;
    }

    let run = ops
        .run(&["dlq", "replay", "--all", "--yes", "--json"])
        .await;
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    let report = run.json();
    let moved: Vec<(String, u64)> = report["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .map(|q| {
            (
                q["queue"].as_str().unwrap_or_default().to_owned(),
                q["moved"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        moved,
        [
            ("poll".to_owned(), 2),
            ("order-events".to_owned(), 14),
            ("commands".to_owned(), 0)
        ]
    );

    let queues = ops.queues().await;
    for dead in [&queues.poll_dead_letters, &queues.order_events_dead_letters] {
        assert_eq!(dead.depth().await.expect("depth").total(), 0);
    }
    // Replaying the order-events DLQ targets the order-events queue, groups in order.
    let events = drain(queues.order_events.as_ref()).await;
    let expected: Vec<String> = (0..12).map(|i| format!("a-{i:02}")).collect();
    assert_eq!(bodies_of_group(&events, ga), expected);
    assert_eq!(bodies_of_group(&events, gb), ["b-00", "b-01"]);
    let mut polls: Vec<String> = drain(queues.poll.as_ref())
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    polls.sort();
    assert_eq!(polls, ["poll-1", "poll-2"]);
}

/// Log lines carry colour codes only on a terminal, and not even there with a non-empty
/// `NO_COLOR` (https://no-color.org); an empty `NO_COLOR` does not count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colour_only_on_a_terminal_and_never_with_no_color() {
    let state = tempfile::tempdir().expect("state dir");
    let dir = state.path().display().to_string();
    // An empty state directory: one tick, nothing to poll, and an INFO line or two.
    let args = ["run", "--once", "--state-dir", dir.as_str()];
    let escape = "\u{1b}[";

    let piped = tokio::task::block_in_place(|| {
        Command::new(crate::support::cli_binary())
            .args(args)
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("the CLI runs")
    });
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert_eq!(piped.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("local runner done"), "it logged: {stderr}");
    assert!(
        !stderr.contains(escape),
        "no colour into a pipe: {stderr:?}"
    );

    let terminal = |env: &[(&str, &str)]| {
        let mut env = env.to_vec();
        env.push(("RUST_LOG", "info"));
        tokio::task::block_in_place(|| crate::tenant_cli::in_terminal(&args, "", &env))
    };
    let (code, shown) = terminal(&[]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains(escape), "colour on a terminal: {shown:?}");
    let (code, shown) = terminal(&[("NO_COLOR", "")]);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains(escape),
        "an empty NO_COLOR is unset: {shown:?}"
    );
    let (code, shown) = terminal(&[("NO_COLOR", "1")]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("local runner done"), "it logged: {shown}");
    assert!(!shown.contains(escape), "NO_COLOR wins: {shown:?}");
}
