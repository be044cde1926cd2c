//! `epages-sync dlq list | show | replay`: the dead-letter queues of the poll, order-events
//! and command queues.
//!
//! Looking never consumes (`connector::pipeline::dead_letters::peek`, the queue port's
//! `peek`). On the embedded backend it reads the messages as they are: receive count and
//! visibility stay unchanged, and it works beside a running `run`. SQS has no way to look
//! without receiving, so on AWS each message is received with a short visibility timeout
//! and made visible again at once, which raises its `ApproximateReceiveCount` by one per
//! look; the dead-letter queues have no redrive of their own, so that is harmless.
//!
//! Replay moves messages back to their source queue (send, then delete). On the FIFO
//! queues (order events, commands) it keeps each message group in its order: `--all` moves
//! whole groups oldest first, and `--id` alone is refused when earlier messages of the same
//! group are still dead-lettered, because the replayed one would overtake them (a
//! cancellation applied before the import of its order); `--id ID --group` then replays the
//! whole group in order.
//!
//! Exit codes: 0 ok (also an empty dead-letter queue), 1 the queues could not be read or a
//! message could not be moved (it stays in the dead-letter queue), 2 usage or input error
//! (unknown message id, `--yes` missing without a terminal), 3 a single replay refused
//! because earlier messages of its group are still dead-lettered.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use connector::pipeline::dead_letters::{self, ReplayOneOutcome, ReplayReport, sort_dead_letters};
use connector::pipeline::sqs_batch::dead_letter_attributes;
use connector::ports::queue::{ReceivedMessage, StageQueues};
use connector::ports::{MessageQueue, StoreError};
use serde::Serialize;

use crate::backend::{self, BackendArgs, BackendError};
use crate::output;

#[derive(Debug, Args)]
pub struct DlqArgs {
    /// Global options, set by `main` (`--json`: JSON lines for `list`, one document otherwise).
    #[arg(skip)]
    pub backend: BackendArgs,
    #[arg(skip)]
    pub json: bool,
    #[command(subcommand)]
    pub command: DlqCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueName {
    Poll,
    OrderEvents,
    Commands,
}

impl QueueName {
    fn as_str(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::OrderEvents => "order-events",
            Self::Commands => "commands",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Dead-lettered messages, without consuming them.
    ///
    /// Embedded backend: nothing changes by looking. AWS: SQS can only look by receiving, so
    /// every look raises each shown message's receive count by one (the messages stay).
    List {
        /// One dead-letter queue (default: all three).
        #[arg(long, value_enum)]
        queue: Option<QueueName>,
        /// At most this many messages per queue.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// One message in full: body, attributes, reason.
    ///
    /// Embedded backend: nothing changes by looking. AWS: SQS can only look by receiving, so
    /// every look raises each message's receive count by one (the messages stay).
    Show {
        /// The dead letter's message id (as `dlq list` shows it).
        id: String,
        /// Look only in this queue's dead letters (all queues when absent).
        #[arg(long, value_enum)]
        queue: Option<QueueName>,
    },
    /// Move messages back to their source queue, keeping FIFO group order.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all"])))]
    Replay {
        /// Replay only this queue's dead letters (all queues when absent).
        #[arg(long, value_enum)]
        queue: Option<QueueName>,
        /// One message by id.
        #[arg(long)]
        id: Option<String>,
        /// With `--id`: the message's whole FIFO group, in order.
        #[arg(long, requires = "id")]
        group: bool,
        /// Every message of the queue(s), groups in order.
        #[arg(long)]
        all: bool,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    #[error("opening the queues")]
    Backend(#[from] BackendError),
    #[error("{action} the {queue} dead-letter queue")]
    Queue {
        action: &'static str,
        queue: &'static str,
        #[source]
        source: StoreError,
    },
    #[error(
        "no message {0} in the dead-letter queues (a FIFO queue shows at most 10 messages per \
         group at a time: `dlq list` shows the oldest ones of each group)"
    )]
    NotFound(String),
    #[error(
        "message {id} is in group {group:?} behind {} earlier message(s) still in the \
         {queue} dead-letter queue ({}); replayed alone it would be applied before them (a \
         cancellation before the import of its order). Replay the group in order with \
         `dlq replay --queue {queue} --id {id} --group`, or everything with `--all`",
        earlier.len(),
        earlier.join(", ")
    )]
    Refused {
        queue: &'static str,
        id: String,
        group: String,
        earlier: Vec<String>,
    },
    #[error("{failed} message(s) could not be sent back and stay in the dead-letter queue")]
    Incomplete { failed: usize },
    #[error("stdin is not a terminal: pass --yes to replay without confirmation")]
    ConfirmationNeeded,
    #[error("reading the confirmation")]
    Confirm(#[source] std::io::Error),
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
}

impl DlqError {
    fn exit_code(&self) -> ExitCode {
        match self {
            Self::NotFound(_) | Self::ConfirmationNeeded => ExitCode::from(2),
            Self::Refused { .. } => ExitCode::from(3),
            _ => ExitCode::FAILURE,
        }
    }
}

pub async fn main(args: DlqArgs) -> ExitCode {
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", super::report(&error));
            error.exit_code()
        }
    }
}

/// A dead-lettered message as `list` and `show` print it.
#[derive(Debug, Serialize)]
pub struct DeadLetter {
    pub queue: &'static str,
    pub id: String,
    pub group: Option<String>,
    pub sequence_number: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub age_seconds: i64,
    pub receive_count: u32,
    /// Why the consumer rejected it; `null` when it was dead-lettered after exhausting its
    /// retries (transient failures), which carries no reason.
    pub reason: Option<String>,
    pub source_message_id: Option<String>,
    pub source_queue: Option<String>,
    pub body: String,
    pub attributes: std::collections::BTreeMap<String, String>,
}

impl DeadLetter {
    fn new(queue: &'static str, message: ReceivedMessage, now: DateTime<Utc>) -> Self {
        let attribute = |name: &str| message.attributes.get(name).cloned();
        Self {
            queue,
            reason: attribute(dead_letter_attributes::REASON),
            source_message_id: attribute(dead_letter_attributes::SOURCE_MESSAGE_ID),
            source_queue: attribute(dead_letter_attributes::SOURCE_QUEUE),
            id: message.message_id,
            group: message.group_id,
            sequence_number: message.sequence_number,
            sent_at: message.sent_at,
            age_seconds: (now - message.sent_at).num_seconds(),
            receive_count: message.receive_count,
            body: message.body,
            attributes: message.attributes,
        }
    }

    fn reason_text(&self) -> &str {
        self.reason.as_deref().unwrap_or("(retries exhausted)")
    }
}

type Pair = (&'static str, Arc<dyn MessageQueue>, Arc<dyn MessageQueue>);

fn selected(queues: &StageQueues, only: Option<QueueName>) -> Vec<Pair> {
    queues
        .pairs()
        .into_iter()
        .filter(|(name, _, _)| only.is_none_or(|q| q.as_str() == *name))
        .map(|(name, source, dead)| (name, source.clone(), dead.clone()))
        .collect()
}

pub async fn run(args: DlqArgs) -> Result<(), DlqError> {
    let clock: Arc<dyn connector::ports::Clock> = Arc::new(connector::ports::SystemClock);
    let queues = backend::open_queues(&args.backend, clock.clone()).await?;
    let now = clock.now();
    let json = args.json;
    match args.command {
        DlqCommand::List { queue, limit } => list(&queues, queue, limit, now, json).await,
        DlqCommand::Show { id, queue } => show(&queues, queue, &id, now, json).await,
        DlqCommand::Replay {
            queue,
            id,
            group,
            all: _,
            yes,
        } => {
            let pairs = selected(&queues, queue);
            match id {
                Some(id) => {
                    confirm(
                        yes,
                        &format!(
                            "Replay message {id}{}?",
                            if group { " and its group" } else { "" }
                        ),
                    )?;
                    replay_one(&pairs, &id, group, json).await
                }
                None => replay_all(&pairs, yes, json).await,
            }
        }
    }
}

async fn peek_all(
    name: &'static str,
    dead: &dyn MessageQueue,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<DeadLetter>, DlqError> {
    let mut messages = dead_letters::peek(dead, limit)
        .await
        .map_err(|source| DlqError::Queue {
            action: "reading",
            queue: name,
            source,
        })?;
    sort_dead_letters(&mut messages);
    Ok(messages
        .into_iter()
        .map(|m| DeadLetter::new(name, m, now))
        .collect())
}

async fn list(
    queues: &StageQueues,
    only: Option<QueueName>,
    limit: usize,
    now: DateTime<Utc>,
    json: bool,
) -> Result<(), DlqError> {
    let mut rows = vec![
        ["QUEUE", "ID", "GROUP", "AGE", "RECEIVES", "REASON", "BODY"]
            .map(str::to_owned)
            .to_vec(),
    ];
    let mut footer = String::new();
    for (name, _, dead) in selected(queues, only) {
        let depth = dead.depth().await.map_err(|source| DlqError::Queue {
            action: "reading the depth of",
            queue: name,
            source,
        })?;
        let letters = peek_all(name, dead.as_ref(), limit, now).await?;
        footer.push_str(&format!(
            "{name}: {} shown, depth {}\n",
            letters.len(),
            depth.total()
        ));
        for letter in letters {
            if json {
                println!("{}", serde_json::to_string(&letter)?);
                continue;
            }
            rows.push(vec![
                name.to_owned(),
                letter.id.clone(),
                letter.group.clone().unwrap_or_else(|| "-".into()),
                output::duration(chrono::TimeDelta::seconds(letter.age_seconds)),
                letter.receive_count.to_string(),
                output::preview(letter.reason_text(), 60),
                output::preview(&letter.body, 60),
            ]);
        }
    }
    if !json {
        if rows.len() > 1 {
            print!("{}", output::table(&rows));
        } else {
            println!("no dead letters");
        }
        print!("{footer}");
    }
    Ok(())
}

async fn show(
    queues: &StageQueues,
    only: Option<QueueName>,
    id: &str,
    now: DateTime<Utc>,
    json: bool,
) -> Result<(), DlqError> {
    for (name, _, dead) in selected(queues, only) {
        let letters = peek_all(name, dead.as_ref(), usize::MAX, now).await?;
        let Some(letter) = letters.into_iter().find(|l| l.id == id) else {
            continue;
        };
        if json {
            println!("{}", serde_json::to_string(&letter)?);
            return Ok(());
        }
        println!("queue:          {name} dead-letter queue ({})", dead.name());
        println!("id:             {}", letter.id);
        println!("group:          {}", letter.group.as_deref().unwrap_or("-"));
        println!(
            "sequence:       {}",
            letter.sequence_number.as_deref().unwrap_or("-")
        );
        println!(
            "sent:           {} ({} ago)",
            output::time(letter.sent_at),
            output::duration(chrono::TimeDelta::seconds(letter.age_seconds))
        );
        println!("receive count:  {}", letter.receive_count);
        println!("reason:         {}", letter.reason_text());
        println!(
            "source message: {}",
            letter.source_message_id.as_deref().unwrap_or("-")
        );
        println!(
            "source queue:   {}",
            letter.source_queue.as_deref().unwrap_or("-")
        );
        println!("attributes:");
        for (key, value) in &letter.attributes {
            println!("  {key} = {value}");
        }
        println!("body:");
        match serde_json::from_str::<serde_json::Value>(&letter.body) {
            Ok(value) => println!("{}", serde_json::to_string_pretty(&value)?),
            Err(_) => println!("{}", letter.body),
        }
        return Ok(());
    }
    Err(DlqError::NotFound(id.to_owned()))
}

/// Asks on the terminal unless `--yes`; refuses without a terminal to ask on.
fn confirm(yes: bool, question: &str) -> Result<(), DlqError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(DlqError::ConfirmationNeeded);
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().map_err(DlqError::Confirm)?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(DlqError::Confirm)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(DlqError::ConfirmationNeeded)
    }
}

#[derive(Debug, Serialize)]
struct Moved {
    queue: &'static str,
    moved: usize,
    failed: Vec<FailedMove>,
}

#[derive(Debug, Serialize)]
struct FailedMove {
    id: String,
    code: String,
    message: String,
}

impl Moved {
    fn new(queue: &'static str, report: ReplayReport) -> Self {
        Self {
            queue,
            moved: report.moved,
            failed: report
                .failed
                .into_iter()
                .map(|(id, failure)| FailedMove {
                    id,
                    code: failure.code,
                    message: failure.message,
                })
                .collect(),
        }
    }
}

fn print_moved(moved: &[Moved], json: bool) -> Result<(), DlqError> {
    if json {
        println!("{}", serde_json::json!({ "queues": moved }));
    } else {
        for m in moved {
            println!(
                "{}: {} message(s) replayed to the {} queue",
                m.queue, m.moved, m.queue
            );
            for f in &m.failed {
                println!("  NOT SENT {}: {} ({})", f.id, f.message, f.code);
            }
        }
    }
    let failed: usize = moved.iter().map(|m| m.failed.len()).sum();
    if failed > 0 {
        return Err(DlqError::Incomplete { failed });
    }
    Ok(())
}

async fn replay_one(pairs: &[Pair], id: &str, group: bool, json: bool) -> Result<(), DlqError> {
    for (name, source, dead) in pairs {
        let outcome =
            dead_letters::replay_message(dead.as_ref(), source.as_ref(), id, group, &mut |_| {})
                .await
                .map_err(|source| DlqError::Queue {
                    action: "replaying from",
                    queue: name,
                    source,
                })?;
        match outcome {
            ReplayOneOutcome::NotFound => continue,
            ReplayOneOutcome::Replayed(report) => {
                return print_moved(&[Moved::new(name, report)], json);
            }
            ReplayOneOutcome::Refused { group, earlier } => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "queue": name, "id": id, "refused": true,
                            "group": group, "earlier": earlier,
                        })
                    );
                }
                return Err(DlqError::Refused {
                    queue: name,
                    id: id.to_owned(),
                    group,
                    earlier,
                });
            }
        }
    }
    Err(DlqError::NotFound(id.to_owned()))
}

async fn replay_all(pairs: &[Pair], yes: bool, json: bool) -> Result<(), DlqError> {
    let mut depths = Vec::new();
    for (name, _, dead) in pairs {
        let depth = dead.depth().await.map_err(|source| DlqError::Queue {
            action: "reading the depth of",
            queue: name,
            source,
        })?;
        depths.push(depth.total());
    }
    let total: u64 = depths.iter().sum();
    if total == 0 {
        if json {
            print_moved(
                &pairs
                    .iter()
                    .map(|(name, _, _)| Moved::new(name, ReplayReport::default()))
                    .collect::<Vec<_>>(),
                json,
            )?;
        } else {
            println!("nothing to replay: the dead-letter queues are empty");
        }
        return Ok(());
    }
    confirm(
        yes,
        &format!("Replay {total} message(s) to their source queues?"),
    )?;
    let bar = output::progress(total, json, "replaying");
    let mut moved = Vec::new();
    for ((name, source, dead), depth) in pairs.iter().zip(depths) {
        if depth == 0 {
            moved.push(Moved::new(name, ReplayReport::default()));
            continue;
        }
        // At most what was there when we started: a consumer that rejects a replayed message
        // at once puts it back, and replay must not chase it forever.
        let report = dead_letters::replay_with_progress(
            dead.as_ref(),
            source.as_ref(),
            depth as usize,
            &mut |_| bar.inc(1),
        )
        .await
        .map_err(|source| DlqError::Queue {
            action: "replaying from",
            queue: name,
            source,
        })?;
        moved.push(Moved::new(name, report));
    }
    bar.finish_and_clear();
    print_moved(&moved, json)
}
