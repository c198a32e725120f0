//! The log on NATS JetStream: one stream, one subject, records appended
//! with `Nats-Expected-Last-Sequence` (an exact compare-and-append: a
//! writer whose position is stale is refused and the stream is unchanged)
//! and the record id as `Nats-Msg-Id`; an append whose acknowledgement does
//! not come is settled by a barrier; records read by sequence or followed
//! with an ordered consumer. Everything here is async and runs on the
//! node's runtime.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, context::Publish, context::PublishErrorKind, stream};
use factlite::replication::{LogRecord, RecordBody};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::error::{Error, Result};

/// Room left in a message for its headers, under the servers' limit.
const HEADER_ROOM: usize = 512;

/// Why an append did not give a position.
#[derive(Debug)]
pub enum Failure {
    /// Another record stands at the position: catch up and resolve again.
    Conflict,
    /// The append was settled as not stored (a barrier took the position):
    /// catch up and resolve again.
    NotStored,
    /// Neither an acknowledgement nor an answer to the barrier came in
    /// time.
    Unknown(Duration),
    /// The record is over the servers' message size.
    TooLarge { bytes: usize, limit: usize },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Conflict => write!(f, "another record took the position"),
            Failure::NotStored => write!(f, "the append was settled as not stored"),
            Failure::Unknown(waited) => {
                write!(f, "no answer in {} ms", waited.as_millis())
            }
            Failure::TooLarge { bytes, limit } => {
                write!(f, "{bytes} bytes, over the limit of {limit}")
            }
        }
    }
}

/// What the reader hands the follower.
pub enum Delivery {
    /// A record's bytes at its position.
    Record(u64, bytes::Bytes),
    /// The stream no longer holds the records from `expected` (purged):
    /// the next it has is at `found`.
    Gap { expected: u64, found: u64 },
}

/// A node's handle on the stream.
pub struct Log {
    context: jetstream::Context,
    stream: stream::Stream,
    name: String,
    subject: String,
    request_timeout: Duration,
    settle_timeout: Duration,
    limit: usize,
}

/// A record id as the `Nats-Msg-Id` text.
pub fn message_id(id: &[u8; 16]) -> String {
    id.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A random record id.
pub fn random_id() -> Result<[u8; 16]> {
    let mut id = [0; 16];
    getrandom::fill(&mut id)
        .map_err(|error| Error::System(format!("the system's random source failed: {error}")))?;
    Ok(id)
}

impl Log {
    /// Connects to the servers and finds (or creates) the stream.
    pub async fn connect(config: &Config) -> Result<Log> {
        let servers: Vec<async_nats::ServerAddr> = config
            .servers
            .iter()
            .map(|server| {
                server
                    .parse()
                    .map_err(|error| Error::Config(format!("the server URL {server}: {error}")))
            })
            .collect::<Result<_>>()?;
        if servers.is_empty() {
            return Err(Error::Config("no server given".to_string()));
        }
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(config.request_timeout)
            .request_timeout(Some(config.request_timeout))
            .connect(servers)
            .await
            .map_err(|error| Error::Connect {
                servers: config.servers.join(","),
                reason: error.to_string(),
            })?;
        let max_payload = client.server_info().max_payload;
        let mut context = jetstream::new(client);
        context.set_timeout(config.request_timeout);
        let stream_error = |reason: String| Error::Stream {
            stream: config.stream.clone(),
            reason,
        };
        let subject = config.subject();
        // A cluster that has just started (or lost its meta leader) answers
        // stream requests once it has elected one: try until the settle
        // timeout.
        let started = Instant::now();
        let stream = loop {
            let found = context
                .get_or_create_stream(stream::Config {
                    name: config.stream.clone(),
                    subjects: vec![subject.clone()],
                    num_replicas: config.replicas,
                    storage: stream::StorageType::File,
                    ..Default::default()
                })
                .await;
            match found {
                Ok(stream) => break stream,
                Err(error) if started.elapsed() >= config.settle_timeout => {
                    return Err(stream_error(error.to_string()))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        };
        let configured = stream.cached_info().config.max_message_size;
        let limit = if configured > 0 {
            max_payload.min(configured as usize)
        } else {
            max_payload
        };
        Ok(Log {
            context,
            stream,
            name: config.stream.clone(),
            subject,
            request_timeout: config.request_timeout,
            settle_timeout: config.settle_timeout,
            limit,
        })
    }

    /// The JetStream context the log was found through (for the
    /// snapshots' bucket beside it).
    pub fn context(&self) -> &jetstream::Context {
        &self.context
    }

    /// Removes the records up to `position` from the stream (a snapshot
    /// holds them); how many went.
    pub async fn purge_through(&self, position: u64) -> Result<u64> {
        let purged = self
            .stream
            .purge()
            .sequence(position + 1)
            .await
            .map_err(|error| self.stream_error(format!("purging it: {error}")))?;
        Ok(purged.purged)
    }

    fn stream_error(&self, reason: String) -> Error {
        Error::Stream {
            stream: self.name.clone(),
            reason,
        }
    }

    /// The position of the stream's last record (0 when empty), as the
    /// stream's leader says.
    pub async fn last_position(&self) -> Result<u64> {
        let info = self
            .stream
            .get_info()
            .await
            .map_err(|error| self.stream_error(error.to_string()))?;
        Ok(info.state.last_sequence)
    }

    /// The record at a position, `None` when the stream does not hold it.
    pub async fn record_at(&self, position: u64) -> Result<Option<LogRecord>> {
        match self.stream.get_raw_message(position).await {
            Ok(message) => LogRecord::decode(&message.payload)
                .map(Some)
                .map_err(|error| {
                    self.stream_error(format!("the record at position {position}: {error}"))
                }),
            Err(error) if error.kind() == stream::RawMessageErrorKind::NoMessageFound => Ok(None),
            Err(error) => Err(self.stream_error(error.to_string())),
        }
    }

    /// Appends a record right after `expected_last`: its position, or why
    /// not. An append left unanswered is settled before this returns.
    pub async fn append(
        &self,
        bytes: &[u8],
        id: &[u8; 16],
        expected_last: u64,
    ) -> std::result::Result<u64, Failure> {
        if bytes.len() + HEADER_ROOM > self.limit {
            return Err(Failure::TooLarge {
                bytes: bytes.len(),
                limit: self.limit.saturating_sub(HEADER_ROOM),
            });
        }
        match self.publish(bytes, id, expected_last).await {
            Ok(position) => Ok(position),
            Err(Attempt::Refused(failure)) => Err(failure),
            Err(Attempt::Unanswered) => self.settle(id, expected_last).await,
        }
    }

    async fn publish(
        &self,
        bytes: &[u8],
        id: &[u8; 16],
        expected_last: u64,
    ) -> std::result::Result<u64, Attempt> {
        let publish = Publish::build()
            .payload(bytes::Bytes::copy_from_slice(bytes))
            .message_id(message_id(id))
            .expected_last_sequence(expected_last);
        let acknowledged = async {
            self.context
                .send_publish(self.subject.clone(), publish)
                .await?
                .await
        };
        match tokio::time::timeout(self.request_timeout, acknowledged).await {
            Ok(Ok(ack)) => Ok(ack.sequence),
            Ok(Err(error)) => Err(match error.kind() {
                PublishErrorKind::WrongLastSequence => Attempt::Refused(Failure::Conflict),
                // No responders: while the stream elects a leader, no
                // server takes the subject. Like a timeout, or a server
                // that lost its leader and answers with an error, the
                // append is settled (a deleted stream ends as unknown).
                _ => Attempt::Unanswered,
            }),
            Err(_elapsed) => Err(Attempt::Unanswered),
        }
    }

    /// Learns whether the record `id`, appended after `expected_last`,
    /// stands in the log: a barrier appended after the same position
    /// either takes it (so the record never can: it expected the same
    /// position) or is refused, and then the record at that position is
    /// read and compared. Tried until the settle timeout.
    async fn settle(&self, id: &[u8; 16], expected_last: u64) -> std::result::Result<u64, Failure> {
        let started = Instant::now();
        let position = expected_last + 1;
        while started.elapsed() < self.settle_timeout {
            let Ok(barrier_id) = random_id() else {
                return Err(Failure::Unknown(started.elapsed()));
            };
            let barrier = LogRecord {
                id: barrier_id,
                basis: 0,
                body: RecordBody::Barrier,
            };
            match self
                .publish(&barrier.encode(), &barrier_id, expected_last)
                .await
            {
                Ok(_) => return Err(Failure::NotStored),
                Err(Attempt::Refused(Failure::Conflict)) => {
                    match tokio::time::timeout(self.request_timeout, self.record_at(position)).await
                    {
                        Ok(Ok(Some(record))) if record.id == *id => return Ok(position),
                        Ok(Ok(Some(_))) => return Err(Failure::Conflict),
                        // Read again after a pause.
                        _ => {}
                    }
                }
                Err(Attempt::Refused(failure)) => return Err(failure),
                Err(Attempt::Unanswered) => {}
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(Failure::Unknown(started.elapsed()))
    }

    /// Follows the stream from `from`, sending each record to `deliveries`
    /// until the receiver is gone; an ordered consumer that fails is made
    /// again from the next position.
    pub async fn follow(&self, from: u64, deliveries: mpsc::Sender<Delivery>) {
        let mut next = from;
        loop {
            let consumer = self
                .stream
                .create_consumer(consumer::pull::OrderedConfig {
                    deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: next,
                    },
                    ..Default::default()
                })
                .await;
            let messages = match consumer {
                Ok(consumer) => consumer.messages().await,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            };
            let Ok(mut messages) = messages else {
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            };
            while let Some(message) = messages.next().await {
                let Ok(message) = message else {
                    break;
                };
                let Ok(info) = message.info() else {
                    break;
                };
                let position = info.stream_sequence;
                let delivery = if position == next {
                    Delivery::Record(position, message.payload.clone())
                } else if position > next {
                    Delivery::Gap {
                        expected: next,
                        found: position,
                    }
                } else {
                    continue;
                };
                let gap = matches!(delivery, Delivery::Gap { .. });
                if deliveries.send(delivery).await.is_err() || gap {
                    return;
                }
                next = position + 1;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One publish's outcome, before settling.
enum Attempt {
    Refused(Failure),
    Unanswered,
}
