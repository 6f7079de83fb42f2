//! File search's dense retrieval, when an embeddings endpoint is configured: a background
//! worker gives every chunk of the documents uploaded for file search a vector, and searches
//! embed their query to find the nearest chunks.
//!
//! The worker is off the request path and crash-safe: its work is found in SQL (documents
//! without a complete set of vectors of the model, `db::chunk_vectors::pending`), each batch's
//! vectors are committed as they come, so a restart resumes with the chunks that have none.
//! Requests carry up to `EMBEDDINGS_BATCH_SIZE` chunks (and at most [`BATCH_CHARS`] of text),
//! are paced to `EMBEDDINGS_REQUESTS_PER_MINUTE`, and are tried again on 429, 5xx, timeouts
//! and dropped connections, after the server's `Retry-After` or an exponential backoff; a
//! document that still fails is put aside for [`LATER`] (BM25 still finds it meanwhile).
//!
//! With balances on, the file's owner pays for the tokens (`usage.prompt_tokens`) as an
//! `embeddings` transaction; an owner whose balance does not cover a batch has their document
//! put aside, unembedded, and logged. A query's embedding is not billed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use crate::billing::Billing;
use crate::config::embeddings::EmbeddingsSettings;
use crate::db::chunk_vectors::{self as store, NewVector, Pending};
use crate::db::{Db, DbError};
use crate::files::chunks::{self, Chunk};
use crate::providers::embeddings::{EmbedError, Embedded, Embedder};
use crate::search::chunks::Passage;
use crate::search::vectors::VectorStore;

/// The most text in one request (about 40,000 tokens of English, well under OpenAI's 300,000
/// per request, and under the 8,192 per input since a chunk is at most 1,600 characters).
pub const BATCH_CHARS: usize = 160_000;
/// Attempts at one batch before its document is put aside.
const ATTEMPTS: u32 = 6;
/// The first backoff; it doubles with each attempt, up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long a document that could not be embedded waits before it is tried again.
const LATER: Duration = Duration::from_secs(600);
/// How often the worker looks for work when nothing in this process wrote.
const POLL: Duration = Duration::from_secs(30);
/// A query's embedding is on the request path: one try, this long at most.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the worker lets writes gather after being woken by one.
const GATHER: Duration = Duration::from_millis(500);
/// Files looked at per pass (those put aside are skipped).
const PENDING_LIMIT: usize = 1_000;

/// The endpoint, the vectors, and the client that calls the endpoint.
pub struct Embeddings {
    pub embedder: Embedder,
    pub store: VectorStore,
    http: reqwest::Client,
}

/// Why the worker stopped on a document.
enum Stop {
    /// The database is closed: the process is ending.
    Closed,
    /// Try the document again after this long.
    Later(Duration, String),
}

impl From<DbError> for Stop {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Closed => Stop::Closed,
            other => Stop::Later(BACKOFF * 5, other.to_string()),
        }
    }
}

impl Embeddings {
    /// `http` is the providers' client: the endpoint is the administrator's, so a private
    /// address (Ollama on this machine) is allowed.
    pub fn new(settings: EmbeddingsSettings, db: Db, http: reqwest::Client) -> Self {
        Self {
            embedder: Embedder::new(settings),
            store: VectorStore::new(db),
            http,
        }
    }

    /// The `limit` chunks of `file_ids` nearest to `query`, nearest first; an error when the
    /// query cannot be embedded (the caller then has BM25 alone).
    pub async fn nearest(
        &self,
        file_ids: &[String],
        query: &str,
        limit: usize,
    ) -> Result<Vec<Passage>, EmbedError> {
        let input = [query.to_owned()];
        let asked = self.embedder.embed(&self.http, &input);
        let embedded = tokio::time::timeout(QUERY_TIMEOUT, asked)
            .await
            .map_err(|_| EmbedError {
                message: "timed out".into(),
                retryable: true,
                retry_after: None,
            })??;
        let vector = embedded.vectors.into_iter().next().unwrap_or_default();
        self.store
            .nearest(self.embedder.model(), file_ids, vector, limit)
            .await
            .map_err(|e| EmbedError {
                message: e.to_string(),
                retryable: false,
                retry_after: None,
            })
    }
}

/// Spaces requests evenly, `every` apart (a minute over the requests per minute), rather than
/// letting a minute's worth go at once: providers enforce a per-minute limit over shorter
/// windows too (OpenAI's 3,000 RPM as 50 a second). Time not used is not saved up: after a
/// pause the next request goes at once and the one after it waits `every` again.
struct Pace {
    every: Duration,
    /// The earliest the next request may go.
    next: Instant,
}

impl Pace {
    fn per_minute(requests: u32, now: Instant) -> Self {
        // Rounded up: never a nanosecond short of a minute for the requests of a minute.
        let minute = Duration::from_secs(60).as_nanos() as u64;
        Pace {
            every: Duration::from_nanos(minute.div_ceil(u64::from(requests.max(1)))),
            next: now,
        }
    }

    /// Books the next request's slot, asked at `now`: how long it must wait for it.
    fn book(&mut self, now: Instant) -> Duration {
        let at = self.next.max(now);
        self.next = at + self.every;
        at - now
    }

    async fn wait(&mut self) {
        let wait = self.book(Instant::now());
        tokio::time::sleep(wait).await;
    }
}

/// Embeds the chunks without vectors, document by document, until the database closes.
pub async fn run(embeddings: Arc<Embeddings>, db: Db, billing: Arc<Billing>) {
    let settings = &embeddings.embedder.settings;
    let worker = Worker {
        pace: Pace::per_minute(settings.requests_per_minute, Instant::now()),
        embeddings: embeddings.clone(),
        db: db.clone(),
        billing,
    };
    worker.run().await;
}

struct Worker {
    embeddings: Arc<Embeddings>,
    db: Db,
    billing: Arc<Billing>,
    pace: Pace,
}

impl Worker {
    async fn run(mut self) {
        let mut aside: HashMap<String, Instant> = HashMap::new();
        loop {
            let model = self.embeddings.embedder.model().to_owned();
            let pending = match self
                .db
                .read(move |c| store::pending(c, &model, PENDING_LIMIT))
                .await
            {
                Ok(p) => p,
                Err(DbError::Closed) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "embeddings: cannot read the work to do");
                    tokio::time::sleep(BACKOFF * 5).await;
                    continue;
                }
            };
            let now = Instant::now();
            aside.retain(|_, until| *until > now);
            let Some(file) = pending
                .into_iter()
                .find(|p| !aside.contains_key(&p.file_id))
            else {
                let wake = aside
                    .values()
                    .min()
                    .copied()
                    .unwrap_or(now + POLL)
                    .min(now + POLL);
                tokio::select! {
                    () = self.db.changed() => {
                        // Let an upload's writes (and a turn's) gather before looking again.
                        tokio::time::sleep(GATHER).await;
                    }
                    () = tokio::time::sleep_until(wake) => {}
                }
                continue;
            };
            let span =
                tracing::info_span!("embeddings", file.id = %file.file_id, user.id = %file.user_id);
            match self.embed_file(&file).instrument(span).await {
                Ok(()) => {}
                Err(Stop::Closed) => return,
                Err(Stop::Later(wait, why)) => {
                    tracing::warn!(
                        file.id = %file.file_id,
                        "embeddings: the document is put aside for {} s ({why}); file search \
                         finds it with BM25 meanwhile",
                        wait.as_secs()
                    );
                    aside.insert(file.file_id, Instant::now() + wait);
                }
            }
        }
    }

    /// Embeds the chunks of one document that have no vector yet, batch by batch.
    async fn embed_file(&mut self, file: &Pending) -> Result<(), Stop> {
        let model = self.embeddings.embedder.model().to_owned();
        let id = file.file_id.clone();
        let Some(doc) = self.db.read(move |c| store::file_text(c, &id)).await? else {
            return Ok(());
        };
        let (id, m) = (file.file_id.clone(), model.clone());
        let done: HashSet<u32> = self
            .db
            .write(move |c| store::embedded_chunks(c, &id, &m))
            .await?
            .into_iter()
            .collect();
        let text = doc.text;
        let all = tokio::task::spawn_blocking(move || chunks::split(&text))
            .await
            .map_err(|e| Stop::Later(LATER, e.to_string()))?;
        let count = u32::try_from(all.len()).unwrap_or(u32::MAX);
        let todo: Vec<(u32, Chunk)> = (0u32..)
            .zip(all)
            .filter(|(n, _)| !done.contains(n))
            .collect();
        let size = self.embeddings.embedder.settings.batch_size;
        for batch in batches(todo, size, BATCH_CHARS) {
            let inputs: Vec<String> = batch.iter().map(|(_, c)| c.text.clone()).collect();
            if self.billing.balance {
                let estimate = inputs.iter().map(|t| t.len() as u64 / 4 + 1).sum();
                if let Ok(Err(short)) = self
                    .billing
                    .check(&doc.user_id, &model, estimate, None)
                    .await
                {
                    return Err(Stop::Later(
                        LATER,
                        format!(
                            "the owner's balance ({}) does not cover about {} credits",
                            short.balance, short.cost
                        ),
                    ));
                }
            }
            let embedded = self.embed_batch(&inputs).await?;
            if let Err(e) = self
                .billing
                .spend_embeddings(&doc.user_id, &model, embedded.prompt_tokens)
                .await
            {
                tracing::warn!(error = %e, "embeddings: the spend could not be recorded");
            }
            let rows: Vec<NewVector> = batch
                .into_iter()
                .zip(embedded.vectors)
                .map(|((n, c), vector)| NewVector {
                    chunk: n,
                    page: c.page,
                    text: c.text,
                    vector,
                })
                .collect();
            let (id, at, m) = (file.file_id.clone(), doc.updated_at.clone(), model.clone());
            let stored = self
                .db
                .write(move |c| store::store(c, &id, &at, &m, &rows))
                .await?;
            if !stored {
                // Changed or gone since it was read: the next pass sees it as it is now.
                return Ok(());
            }
        }
        let id = file.file_id.clone();
        if self
            .db
            .write(move |c| store::complete(c, &id, &model, count))
            .await?
        {
            tracing::debug!(chunks = count, "embeddings: the document is embedded");
        }
        Ok(())
    }

    /// One batch, tried again on what may pass later.
    async fn embed_batch(&mut self, inputs: &[String]) -> Result<Embedded, Stop> {
        let mut attempt = 0;
        loop {
            self.pace.wait().await;
            let e = match self
                .embeddings
                .embedder
                .embed(&self.embeddings.http, inputs)
                .await
            {
                Ok(done) => return Ok(done),
                Err(e) => e,
            };
            attempt += 1;
            if !e.retryable || attempt >= ATTEMPTS {
                return Err(Stop::Later(LATER, e.to_string()));
            }
            let wait = e
                .retry_after
                .unwrap_or_else(|| (BACKOFF * 2u32.pow(attempt - 1)).min(MAX_BACKOFF));
            tracing::info!(error = %e, attempt, "embeddings: trying again in {} ms", wait.as_millis());
            tokio::time::sleep(wait).await;
        }
    }
}

/// `items` in order, cut into batches of at most `size` items and `max_chars` characters of
/// text (a single larger item is a batch of its own).
fn batches(items: Vec<(u32, Chunk)>, size: usize, max_chars: usize) -> Vec<Vec<(u32, Chunk)>> {
    let mut out: Vec<Vec<(u32, Chunk)>> = Vec::new();
    let mut chars = 0;
    for item in items {
        let n = item.1.text.len();
        match out.last_mut() {
            Some(last) if last.len() < size && chars + n <= max_chars => {
                chars += n;
                last.push(item);
            }
            _ => {
                chars = n;
                out.push(vec![item]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_a_count_and_a_budget_of_text() {
        let item = |n: u32, len: usize| {
            (
                n,
                Chunk {
                    text: "x".repeat(len),
                    page: None,
                },
            )
        };
        let sizes = |b: &[Vec<(u32, Chunk)>]| b.iter().map(Vec::len).collect::<Vec<_>>();
        let items: Vec<_> = (0..5).map(|n| item(n, 10)).collect();
        assert_eq!(sizes(&batches(items, 2, 1000)), [2, 2, 1]);
        let items = vec![item(0, 600), item(1, 600), item(2, 2000), item(3, 1)];
        assert_eq!(sizes(&batches(items, 64, 1000)), [1, 1, 1, 1]);
        assert!(batches(Vec::new(), 64, 1000).is_empty());
    }

    /// The waits of requests asked at `start` plus each of `at` (milliseconds), in order.
    fn waits(pace: &mut Pace, start: Instant, at: &[u64]) -> Vec<u64> {
        at.iter()
            .map(|ms| pace.book(start + Duration::from_millis(*ms)).as_millis() as u64)
            .collect()
    }

    #[test]
    fn a_minute_holds_the_requests_per_minute_and_the_next_waits_for_the_one_after() {
        let start = Instant::now();
        let mut pace = Pace::per_minute(4, start);
        // Four asked at once go 0, 15, 30 and 45 s later: all within the first minute. The
        // fifth, asked at once too, goes a minute after the first.
        assert_eq!(
            waits(&mut pace, start, &[0, 0, 0, 0, 0]),
            [0, 15_000, 30_000, 45_000, 60_000]
        );
        // One asked 70 s in waits for its slot, 75 s (after the fifth's, at 60 s).
        assert_eq!(waits(&mut pace, start, &[70_000]), [5_000]);

        // Requests that come slower than the pace never wait.
        let mut pace = Pace::per_minute(60, start);
        assert_eq!(waits(&mut pace, start, &[0, 1_000, 2_500, 4_000]), [0; 4]);
        // Nor is a pause saved up for a burst: after it, one goes at once and the next waits.
        assert_eq!(
            waits(&mut pace, start, &[60_000, 60_000, 60_500]),
            [0, 1_000, 1_500]
        );
    }

    #[test]
    fn any_minute_of_a_long_run_holds_at_most_the_requests_per_minute() {
        let start = Instant::now();
        let mut pace = Pace::per_minute(3_000, start);
        // 10,000 requests asked at once: each goes when its wait says.
        let sent: Vec<Duration> = (0..10_000).map(|_| pace.book(start)).collect();
        let minute = Duration::from_secs(60);
        // In order, so the minute from any request holds at most 3,000 when the 3,001st
        // after it (counting it) is a minute or more later.
        assert!(sent.is_sorted());
        for (first, next) in sent.iter().zip(&sent[3_000..]) {
            assert!(*next - *first >= minute, "{first:?} and {next:?}");
        }
        assert_eq!(sent[2_999], Duration::from_millis(59_980));
        assert_eq!(sent[3_000], minute);
        // A rate that does not divide a minute evenly never goes over either.
        let mut pace = Pace::per_minute(7, start);
        let sent: Vec<Duration> = (0..8).map(|_| pace.book(start)).collect();
        assert!(sent[6] < minute && sent[7] >= minute, "{sent:?}");
        // Zero is taken as one a minute.
        let mut pace = Pace::per_minute(0, start);
        assert_eq!(waits(&mut pace, start, &[0, 0]), [0, 60_000]);
    }
}
