//! Snapshots of a node's file, kept beside the log: the file copied whole
//! with SQLite's online backup (datoms, log, views and the `replication`
//! row, so the copy carries the position of the last record it holds), put
//! in the JetStream object store bucket `<stream>-snapshots` as the object
//! `latest` with that position in its metadata. A node opened on a missing
//! file downloads it and follows the log from the next position, instead
//! of replaying the log from its genesis; and the stream may then be purged
//! below it (a node behind the snapshot must start from it again).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use async_nats::jetstream::object_store::{self, ObjectMetadata, ObjectStore};
use async_nats::jetstream::{self, stream::StorageType};

use crate::error::{Error, Result};

/// The object holding a bucket's newest snapshot.
const LATEST: &str = "latest";

/// The metadata key of a snapshot's position.
const POSITION: &str = "position";

/// A snapshot kept in the log's bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The position of the last record of the log the snapshot's file
    /// holds: a node started from it follows the log from the next.
    pub position: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// The bucket of a stream's snapshots.
pub fn bucket_name(stream: &str) -> String {
    format!("{stream}-snapshots")
}

fn snapshot_error(reason: impl std::fmt::Display) -> Error {
    Error::Snapshot(reason.to_string())
}

/// The stream's bucket, made (with `replicas` copies) when missing.
async fn bucket(
    context: &jetstream::Context,
    stream: &str,
    replicas: usize,
) -> Result<ObjectStore> {
    let name = bucket_name(stream);
    if let Ok(bucket) = context.get_object_store(&name).await {
        return Ok(bucket);
    }
    context
        .create_object_store(object_store::Config {
            bucket: name.clone(),
            description: Some(format!("factlite snapshots of the log {stream}")),
            storage: StorageType::File,
            num_replicas: replicas,
            ..Default::default()
        })
        .await
        .map_err(|error| snapshot_error(format!("the bucket {name} could not be made: {error}")))
}

/// Puts the file at `file`, holding the log up to `position`, as the
/// stream's newest snapshot.
pub async fn put(
    context: &jetstream::Context,
    stream: &str,
    replicas: usize,
    file: &Path,
    position: u64,
) -> Result<Snapshot> {
    let bucket = bucket(context, stream, replicas).await?;
    let mut reader = tokio::fs::File::open(file)
        .await
        .map_err(|error| snapshot_error(format!("reading {}: {error}", file.display())))?;
    let meta = ObjectMetadata {
        name: LATEST.to_string(),
        description: Some(format!("the log {stream} up to position {position}")),
        metadata: HashMap::from([(POSITION.to_string(), position.to_string())]),
        ..Default::default()
    };
    let info = bucket
        .put(meta, &mut reader)
        .await
        .map_err(|error| snapshot_error(format!("uploading the snapshot: {error}")))?;
    Ok(Snapshot {
        position,
        bytes: info.size as u64,
    })
}

/// The stream's newest snapshot, if it has one.
pub async fn latest(context: &jetstream::Context, stream: &str) -> Result<Option<Snapshot>> {
    match context.get_object_store(bucket_name(stream)).await {
        Ok(bucket) => latest_in(&bucket).await,
        Err(_) => Ok(None),
    }
}

/// The newest snapshot a bucket holds, if any.
async fn latest_in(bucket: &ObjectStore) -> Result<Option<Snapshot>> {
    let info = match bucket.info(LATEST).await {
        Ok(info) => info,
        Err(error) if error.kind() == object_store::InfoErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(snapshot_error(format!(
                "reading the snapshot's metadata: {error}"
            )))
        }
    };
    let position = info
        .metadata
        .get(POSITION)
        .and_then(|position| position.parse().ok())
        .ok_or_else(|| snapshot_error("the snapshot's metadata names no position"))?;
    Ok(Some(Snapshot {
        position,
        bytes: info.size as u64,
    }))
}

/// Downloads the stream's newest snapshot to `to` (written beside it,
/// then renamed into place, so `to` is the whole file or nothing); `None`
/// when the stream has no snapshot.
pub async fn fetch(
    context: &jetstream::Context,
    stream: &str,
    to: &Path,
) -> Result<Option<Snapshot>> {
    let Ok(bucket) = context.get_object_store(bucket_name(stream)).await else {
        return Ok(None);
    };
    let Some(snapshot) = latest_in(&bucket).await? else {
        return Ok(None);
    };
    let mut object = bucket
        .get(LATEST)
        .await
        .map_err(|error| snapshot_error(format!("downloading the snapshot: {error}")))?;
    let partial = partial_path(to);
    let written = async {
        let mut file = tokio::fs::File::create(&partial).await?;
        tokio::io::copy(&mut object, &mut file).await?;
        file.sync_all().await?;
        tokio::fs::rename(&partial, to).await
    };
    if let Err(error) = written.await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(snapshot_error(format!(
            "writing the snapshot to {}: {error}",
            to.display()
        )));
    }
    Ok(Some(snapshot))
}

/// Where a file is written before it is renamed to `path`.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".snapshot-partial");
    PathBuf::from(name)
}
