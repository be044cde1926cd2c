//! Where `run` gets Afosto's commands: JSON lines on stdin, or `*.jsonl` files dropped in
//! a directory. Each line is validated before it is enqueued; a refused line is reported
//! with its source, line number and the field that is wrong (stderr, and `--rejects`),
//! never silently dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use connector::ports::MessageQueue;
use tokio::io::AsyncWriteExt;

use crate::local::Shutdown;
use crate::local::inbox::{self, SendError};

/// How often a followed directory is scanned for new files.
const SCAN_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("reading {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("moving {path} to done/")]
    Move {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the rejects file {path}")]
    Rejects {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("enqueueing the commands of {origin}")]
    Send {
        origin: String,
        #[source]
        source: SendError,
    },
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ReadSummary {
    pub enqueued: usize,
    pub rejected: usize,
}

impl ReadSummary {
    fn add(&mut self, other: ReadSummary) {
        self.enqueued += other.enqueued;
        self.rejected += other.rejected;
    }
}

pub struct CommandSource {
    stdin: bool,
    dir: Option<PathBuf>,
    rejects: Option<PathBuf>,
    queue: Arc<dyn MessageQueue>,
}

impl CommandSource {
    pub fn new(
        stdin: bool,
        dir: Option<PathBuf>,
        rejects: Option<PathBuf>,
        queue: Arc<dyn MessageQueue>,
    ) -> Self {
        Self {
            stdin,
            dir,
            rejects,
            queue,
        }
    }

    /// Everything there is now: stdin to its end, the directory's files once.
    pub async fn read_all(&self) -> Result<ReadSummary, InputError> {
        let mut summary = ReadSummary::default();
        if self.stdin {
            summary.add(self.read_stdin(None).await?);
        }
        if let Some(dir) = &self.dir {
            summary.add(self.scan_dir(dir).await?);
        }
        Ok(summary)
    }

    /// Reads until `shutdown`: stdin line by line as it comes, the directory every second.
    pub async fn follow(self, shutdown: Shutdown) -> Result<ReadSummary, InputError> {
        let mut summary = ReadSummary::default();
        if self.stdin {
            tokio::select! {
                read = self.read_stdin(Some(&shutdown)) => summary.add(read?),
                () = shutdown.wait() => return Ok(summary),
            }
        }
        if let Some(dir) = &self.dir {
            while !shutdown.is_triggered() {
                summary.add(self.scan_dir(dir).await?);
                tokio::select! {
                    () = tokio::time::sleep(SCAN_EVERY) => {}
                    () = shutdown.wait() => {}
                }
            }
        }
        Ok(summary)
    }

    /// Each line is enqueued as soon as it is read, so a long-running producer's commands
    /// are applied while it keeps writing.
    async fn read_stdin(&self, shutdown: Option<&Shutdown>) -> Result<ReadSummary, InputError> {
        let mut lines = stdin_lines();
        let mut summary = ReadSummary::default();
        let mut number = 0usize;
        while let Some(line) = lines.recv().await {
            let line = line.map_err(|source| InputError::Read {
                path: "stdin".to_owned(),
                source,
            })?;
            number += 1;
            summary.add(self.take_lines("stdin", &[(number, line)]).await?);
            if shutdown.is_some_and(Shutdown::is_triggered) {
                break;
            }
        }
        Ok(summary)
    }

    /// Every `*.jsonl` file, in name order: its valid commands enqueued, its refused lines
    /// reported, then the file moved to `done/` so it is never read twice.
    async fn scan_dir(&self, dir: &Path) -> Result<ReadSummary, InputError> {
        let read_error = |source| InputError::Read {
            path: dir.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        let mut entries = tokio::fs::read_dir(dir).await.map_err(read_error)?;
        while let Some(entry) = entries.next_entry().await.map_err(read_error)? {
            let path = entry.path();
            let is_file = entry
                .file_type()
                .await
                .map(|t| t.is_file())
                .unwrap_or(false);
            if is_file && path.extension().is_some_and(|ext| ext == "jsonl") {
                files.push(path);
            }
        }
        files.sort();
        let mut summary = ReadSummary::default();
        let done = dir.join("done");
        for path in files {
            let text =
                tokio::fs::read_to_string(&path)
                    .await
                    .map_err(|source| InputError::Read {
                        path: path.display().to_string(),
                        source,
                    })?;
            let lines: Vec<(usize, String)> = text
                .lines()
                .enumerate()
                .map(|(index, line)| (index + 1, line.to_owned()))
                .collect();
            summary.add(self.take_lines(&path.display().to_string(), &lines).await?);
            let moved = async {
                tokio::fs::create_dir_all(&done).await?;
                let name = path.file_name().unwrap_or_default();
                tokio::fs::rename(&path, done.join(name)).await
            };
            moved.await.map_err(|source| InputError::Move {
                path: path.clone(),
                source,
            })?;
            tracing::info!(file = %path.display(), "commands file enqueued; moved to done/");
        }
        Ok(summary)
    }

    /// Validates numbered lines; enqueues the valid ones in their order, reports the rest.
    async fn take_lines(
        &self,
        origin: &str,
        lines: &[(usize, String)],
    ) -> Result<ReadSummary, InputError> {
        let mut valid = Vec::new();
        let mut summary = ReadSummary::default();
        for (number, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            match inbox::prepare(line) {
                Ok(prepared) => valid.push(prepared),
                Err(error) => {
                    summary.rejected += 1;
                    self.reject(origin, *number, line, &error).await?;
                }
            }
        }
        inbox::send(self.queue.as_ref(), &valid)
            .await
            .map_err(|source| InputError::Send {
                origin: origin.to_owned(),
                source,
            })?;
        for prepared in &valid {
            tracing::info!(
                command = %prepared.command.id,
                kind = prepared.command.command_type().as_str(),
                "command enqueued"
            );
        }
        summary.enqueued += valid.len();
        Ok(summary)
    }

    async fn reject(
        &self,
        origin: &str,
        number: usize,
        line: &str,
        error: &contracts::command::CommandError,
    ) -> Result<(), InputError> {
        let reason = crate::commands::report(error);
        eprintln!("error: {origin} line {number}: not enqueued: {reason}\n  {line}");
        let Some(path) = &self.rejects else {
            return Ok(());
        };
        let record = serde_json::json!({
            "source": origin,
            "line": number,
            "error": reason,
            "body": line,
        });
        let write = async {
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await?;
            file.write_all(format!("{record}\n").as_bytes()).await?;
            file.flush().await
        };
        write.await.map_err(|source| InputError::Rejects {
            path: path.clone(),
            source,
        })
    }
}

/// Stdin's lines from a plain thread. A read of stdin cannot be cancelled; on tokio's
/// blocking pool it would hold the runtime's shutdown until the user pressed enter, while
/// a detached thread simply ends with the process.
fn stdin_lines() -> tokio::sync::mpsc::Receiver<std::io::Result<String>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(64);
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines() {
            let failed = line.is_err();
            if sender.blocking_send(line).is_err() || failed {
                return;
            }
        }
    });
    receiver
}
