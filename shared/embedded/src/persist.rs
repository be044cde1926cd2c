//! The one persistence helper of the embedded stores: a JSON document per store, loaded at
//! open and replaced atomically (temp file, fsync, rename) on every change, so a crash
//! leaves either the old or the new state on disk, never a torn file.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, MutexGuard};

use connector::ports::StoreError;

/// The result of a change closure: whether the state must be written.
pub(crate) enum Mutation<R> {
    Changed(R),
    Unchanged(R),
}

/// A JSON-file-backed value shared by the tasks of one process. One process per state
/// directory: there is no cross-process locking.
#[derive(Debug)]
pub(crate) struct JsonFile<T> {
    path: PathBuf,
    state: Mutex<T>,
}

impl<T> JsonFile<T>
where
    T: Serialize + DeserializeOwned + Default + Clone + Send,
{
    pub(crate) async fn open(path: PathBuf) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|source| StoreError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
        }
        let state = match tokio::fs::read(&path).await {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| StoreError::StateFile {
                    path: path.clone(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => T::default(),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        Ok(Self {
            path,
            state: Mutex::new(state),
        })
    }

    pub(crate) async fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&*self.state.lock().await)
    }

    /// Runs `f` on a copy of the state and keeps the copy only once it is on disk, so a
    /// failed write leaves memory and file agreeing.
    pub(crate) async fn update<R>(
        &self,
        f: impl FnOnce(&mut T) -> Result<Mutation<R>, StoreError>,
    ) -> Result<R, StoreError> {
        let mut guard = self.lock().await;
        let mut next = guard.current().clone();
        match f(&mut next)? {
            Mutation::Unchanged(result) => Ok(result),
            Mutation::Changed(result) => {
                guard.save(next).await?;
                Ok(result)
            }
        }
    }

    /// Exclusive access across awaits, for changes that span two files (queue redrive).
    pub(crate) async fn lock(&self) -> FileGuard<'_, T> {
        FileGuard {
            path: &self.path,
            state: self.state.lock().await,
        }
    }
}

pub(crate) struct FileGuard<'a, T> {
    path: &'a Path,
    state: MutexGuard<'a, T>,
}

impl<T: Serialize> FileGuard<'_, T> {
    pub(crate) fn current(&self) -> &T {
        &self.state
    }

    pub(crate) async fn save(&mut self, next: T) -> Result<(), StoreError> {
        write_atomically(self.path, &next).await?;
        *self.state = next;
        Ok(())
    }
}

async fn write_atomically<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = serde_json::to_vec(value).map_err(|source| StoreError::StateFile {
        path: path.to_path_buf(),
        source,
    })?;
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(".tmp");
    let temp = PathBuf::from(temp_name);
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // State files hold tokens and secrets: readable by the owner only.
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&temp).await.map_err(io)?;
    file.write_all(&bytes).await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    drop(file);
    tokio::fs::rename(&temp, path).await.map_err(io)?;
    Ok(())
}
