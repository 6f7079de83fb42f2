//! Keeps the index in step with the database: a full rebuild, and the incremental loop that
//! applies the change outbox in batches.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::db::sql::Connection;
use tantivy::{IndexWriter, Term};

use super::{Kind, SearchError, SearchIndex, WRITER_MEMORY};
use crate::db::search::{self as store, ChangeKind, Doc, FileDoc, Position};
use crate::db::{Db, DbError};

/// How many changes one commit takes at most.
const BATCH: usize = 5_000;
/// After this many changes, freed memory is given back to the system whenever the indexer is
/// idle during the next [`RELEASE_FOR`]: indexing an import of 50,000 messages left ~40 MB
/// free but held by malloc, some of it only once the index's segments were merged in the
/// background, after the last batch.
const LARGE_WORK: usize = 1_000;
const RELEASE_FOR: Duration = Duration::from_secs(30);
/// How long the indexer lets changes gather after a write before it commits them.
const GATHER: Duration = Duration::from_millis(250);

/// One step of bringing the index up to date.
enum Op {
    Remove(Term),
    RemoveConversation(Term),
    Add(Kind, Doc),
    /// A file's chunks.
    AddFile(FileDoc),
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy)]
pub struct Rebuilt {
    pub documents: u64,
    /// The last database change the rebuilt index includes.
    pub up_to: Position,
}

impl SearchIndex {
    /// Rebuilds the whole index from the database, reading through `conn` (one consistent
    /// snapshot) and calling `progress` with the number of documents done so far. Searches keep
    /// answering from the old contents until the new ones are committed. Blocking.
    pub fn rebuild(
        &self,
        conn: &Connection,
        progress: &dyn Fn(u64),
    ) -> Result<Rebuilt, SearchError> {
        let mut slot = self.writer.lock().expect("search writer");
        if self.is_closed() {
            return Err(SearchError::Io("the index is closed".into()));
        }
        // Only one writer may hold the index: the incremental one makes way.
        *slot = None;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let writer: IndexWriter = self
            .index
            .writer_with_num_threads(threads, 64_000_000 * threads)?;
        // Read the position first: every change up to it is in the snapshot read below.
        let up_to = store::rebuild_position(conn)?;
        writer.delete_all_documents()?;
        // Items read (messages, titles, files) for `progress`; documents written (a file is
        // one per chunk) for the result.
        let done = Cell::new(0u64);
        let documents = Cell::new(0u64);
        let add =
            |docs: &mut dyn Iterator<Item = tantivy::TantivyDocument>| -> Result<(), DbError> {
                if self.is_closed() {
                    // Shutting down: stop here, uncommitted; the next start rebuilds again.
                    return Err(DbError::Closed);
                }
                for d in docs {
                    writer
                        .add_document(d)
                        .map_err(|e| DbError::Io(e.to_string()))?;
                    documents.set(documents.get() + 1);
                }
                done.set(done.get() + 1);
                if done.get().is_multiple_of(1000) {
                    progress(done.get());
                }
                Ok(())
            };
        store::for_each(
            conn,
            |d| add(&mut std::iter::once(self.document(Kind::Title, &d))),
            |d| add(&mut std::iter::once(self.document(Kind::Message, &d))),
            |f| add(&mut self.chunk_documents(&f)),
        )?;
        progress(done.get());
        let mut writer = writer;
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&up_to.to_string());
        commit.commit()?;
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        self.set_applied(up_to);
        self.rebuilds
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        *self.rebuild_reason.lock().expect("search state") = None;
        Ok(Rebuilt {
            documents: documents.get(),
            up_to,
        })
    }

    /// Reads the changes after the last applied one and what each item looks like now.
    fn pending_ops(
        &self,
        conn: &Connection,
        after: Position,
    ) -> Result<(Vec<Op>, Option<Position>), DbError> {
        let changes = store::changes(conn, after, BATCH)?;
        let last = changes.last().map(|c| c.at);
        let mut seen = HashSet::new();
        let mut ops = Vec::new();
        for change in changes {
            if !seen.insert((change.kind, change.item_id.clone())) {
                continue;
            }
            let id = change.item_id;
            match change.kind {
                ChangeKind::Message => {
                    ops.push(Op::Remove(self.key(Kind::Message, &id)));
                    if let Some(doc) = store::message(conn, &id)? {
                        ops.push(Op::Add(Kind::Message, doc));
                    }
                }
                ChangeKind::Title => {
                    ops.push(Op::Remove(self.key(Kind::Title, &id)));
                    if let Some(doc) = store::title(conn, &id)? {
                        ops.push(Op::Add(Kind::Title, doc));
                    }
                }
                ChangeKind::File => {
                    ops.push(Op::Remove(self.key(Kind::Chunk, &id)));
                    if let Some(doc) = store::file(conn, &id)? {
                        ops.push(Op::AddFile(doc));
                    }
                }
                ChangeKind::WholeConversation => {
                    ops.push(Op::RemoveConversation(self.conversation(&id)));
                    if let Some(doc) = store::title(conn, &id)? {
                        ops.push(Op::Add(Kind::Title, doc));
                    }
                    for doc in store::conversation_messages(conn, &id)? {
                        ops.push(Op::Add(Kind::Message, doc));
                    }
                }
            }
        }
        Ok((ops, last))
    }

    /// Applies `ops` and commits them as holding the changes up to `up_to`. Blocking.
    fn apply(&self, ops: Vec<Op>, up_to: Position) -> Result<(), SearchError> {
        let mut slot = self.writer.lock().expect("search writer");
        if self.is_closed() {
            return Err(SearchError::Io("the index is closed".into()));
        }
        if slot.is_none() {
            *slot = Some(self.index.writer_with_num_threads(1, WRITER_MEMORY)?);
        }
        let writer = slot.as_mut().expect("writer just made");
        let result = (|| {
            for op in ops {
                match op {
                    Op::Remove(term) | Op::RemoveConversation(term) => {
                        writer.delete_term(term);
                    }
                    Op::Add(kind, doc) => {
                        writer.add_document(self.document(kind, &doc))?;
                    }
                    Op::AddFile(file) => {
                        for d in self.chunk_documents(&file) {
                            writer.add_document(d)?;
                        }
                    }
                }
            }
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&up_to.to_string());
            commit.commit()?;
            Ok::<_, SearchError>(())
        })();
        if result.is_err() {
            // Whatever was half-added is dropped with the writer; the changes stay in the
            // outbox and are tried again.
            *slot = None;
        }
        result?;
        self.set_applied(up_to);
        self.reader.reload()?;
        Ok(())
    }
}

fn to_db(e: SearchError) -> DbError {
    match e {
        SearchError::Db(e) => e,
        other => DbError::Io(other.to_string()),
    }
}

/// Why the index cannot be used as it is, judged against the database.
async fn stale(search: &SearchIndex, db: &Db) -> Result<Option<String>, DbError> {
    if let Some(reason) = search.rebuild_reason() {
        return Ok(Some(reason));
    }
    let applied = search.applied_change();
    let (last, forgotten) = db
        .read(|c| Ok((store::last_change(c)?, store::forgotten(c)?)))
        .await?;
    Ok(if applied.seq > last.seq || applied.tx > last.tx {
        Some("it is newer than the database (was the database restored from a backup?)".into())
    } else if applied < forgotten {
        Some(
            "it misses changes (search was off, this replica was away longer than the change \
             log waits, or the index was restored from an older copy)"
                .into(),
        )
    } else {
        None
    })
}

/// Rebuilds the index, retrying with a growing pause until it works or the index is closed.
async fn rebuild_until_done(search: &Arc<SearchIndex>, db: &Db, reason: &str) -> bool {
    tracing::info!(dir = %search.dir().display(), "rebuilding the search index: {reason}");
    let mut pause = Duration::from_secs(5);
    loop {
        let started = std::time::Instant::now();
        let s = search.clone();
        let replica = search.replica().to_owned();
        let result = match db.read(move |c| s.rebuild(c, &|_| {}).map_err(to_db)).await {
            Ok(done) => db
                .write(move |c| store::advance(c, &replica, done.up_to))
                .await
                .map(|_| done),
            Err(e) => Err(e),
        };
        match result {
            Ok(done) => {
                let _ = tokio::task::spawn_blocking(crate::memory::release).await;
                tracing::info!(
                    documents = done.documents,
                    ms = started.elapsed().as_millis() as u64,
                    "search index rebuilt"
                );
                return true;
            }
            Err(_) if search.is_closed() => return false,
            Err(DbError::Closed) => return false,
            Err(e) => {
                tracing::error!(error = %e, "rebuilding the search index failed; trying again in {} s", pause.as_secs());
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(600));
            }
        }
    }
}

/// How often the outbox is looked at when nothing in this process wrote: `librechat import`
/// and other commands write from their own processes.
const POLL: Duration = Duration::from_secs(2);
/// The same on PostgreSQL, where other replicas write too: what they write is searchable here
/// within about half a second. (One indexed lookup that finds nothing, four times a second.)
const POLL_SHARED: Duration = Duration::from_millis(250);
/// How often a replica says it is alive (and where its index stands) when it has nothing to
/// apply; well within [`store::LIVE_FOR_MS`].
const HEARTBEAT: Duration = Duration::from_secs(60);

/// Records where the index stands and prunes what every live replica has. An index waiting
/// for a rebuild stands nowhere yet: it holds the log back from its very start (so that what it
/// claims, possibly past a restored database's end, prunes nothing).
async fn advance(search: &SearchIndex, db: &Db) -> Result<usize, DbError> {
    let replica = search.replica().to_owned();
    let at = if search.rebuild_reason().is_some() {
        Position::default()
    } else {
        search.applied_change()
    };
    db.write(move |c| store::advance(c, &replica, at)).await
}

/// Rebuilds if needed, then applies changes as they are written, until the process ends.
pub async fn run(search: Arc<SearchIndex>, db: Db) {
    match stale(&search, &db).await {
        Ok(Some(reason)) => search.require_rebuild(reason),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot check the search index against the database"),
    }
    // Say where this index stands: from now on the change log is not pruned past it (unless
    // this replica stops answering for a long while). Pruned past it between the check above
    // and now, it finds out at its first step.
    if let Err(e) = advance(&search, &db).await {
        tracing::warn!(error = %e, "cannot record where the search index stands");
    }
    let poll = if db.is_postgres() { POLL_SHARED } else { POLL };
    let mut said = std::time::Instant::now();
    let heartbeat = tokio::spawn(heartbeat(search.clone(), db.clone()));
    let mut release_until: Option<std::time::Instant> = None;
    loop {
        if search.is_closed() {
            break;
        }
        if let Some(reason) = search.rebuild_reason()
            && !rebuild_until_done(&search, &db, &reason).await
        {
            search.close();
            break;
        }
        match step(&search, &db).await {
            Ok(0) => {
                if said.elapsed() >= HEARTBEAT {
                    said = std::time::Instant::now();
                    if let Err(e) = advance(&search, &db).await {
                        tracing::warn!(error = %e, "cannot record where the search index stands");
                    }
                }
                tokio::select! {
                    () = db.changed() => {}
                    () = tokio::time::sleep(poll) => {}
                }
                if let Some(until) = release_until {
                    let _ = tokio::task::spawn_blocking(crate::memory::release).await;
                    if std::time::Instant::now() > until {
                        release_until = None;
                    }
                }
                tokio::time::sleep(GATHER).await;
            }
            Ok(n) => {
                said = std::time::Instant::now();
                if n >= LARGE_WORK {
                    release_until = Some(std::time::Instant::now() + RELEASE_FOR);
                }
            }
            Err(DbError::Closed) => {
                search.close();
                break;
            }
            Err(_) if search.is_closed() => break,
            Err(e) => {
                tracing::warn!(error = %e, "updating the search index failed; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
    heartbeat.abort();
}

/// Says now and then that this replica is alive, also while a long rebuild keeps the indexing
/// loop busy.
async fn heartbeat(search: Arc<SearchIndex>, db: Db) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        if search.is_closed() {
            return;
        }
        match advance(&search, &db).await {
            Ok(_) => {}
            Err(DbError::Closed) => return,
            Err(e) => tracing::warn!(error = %e, "cannot record where the search index stands"),
        }
    }
}

/// With search off, this replica reads nothing from the outbox the triggers fill: prune it now
/// and then, so it does not grow without bound: everything when no replica keeps an index,
/// else what every live one has. (Turning search on later rebuilds the index, which then
/// misses these changes.)
pub async fn discard_while_off(db: Db) {
    loop {
        match db.read(store::pending).await {
            Ok(0) => {}
            Ok(_) => {
                if let Err(e) = db
                    .write(|c| store::prune_while_off(c, store::now_ms()))
                    .await
                {
                    if matches!(e, DbError::Closed) {
                        return;
                    }
                    tracing::warn!(error = %e, "cannot empty the search outbox");
                }
            }
            Err(DbError::Closed) => return,
            Err(e) => tracing::warn!(error = %e, "cannot read the search outbox"),
        }
        tokio::select! {
            () = db.changed() => {}
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Applies one batch of changes; returns how many there were.
async fn step(search: &Arc<SearchIndex>, db: &Db) -> Result<usize, DbError> {
    let after = search.applied_change();
    let s = search.clone();
    let (ops, last, forgotten) = db
        .read(move |c| {
            let (ops, last) = s.pending_ops(c, after)?;
            // Read after the changes: a prune that removed some of them before they were read
            // has said so by then.
            let forgotten = store::forgotten(c)?;
            Ok((ops, last, forgotten))
        })
        .await?;
    if after < forgotten {
        // Pruned past this index meanwhile (it was away, or a prune raced its return).
        search.require_rebuild(
            "it misses changes (the change log was pruned past it while this replica was away)"
                .into(),
        );
        return Ok(0);
    }
    let Some(last) = last else { return Ok(0) };
    let n = ops.len().max(1);
    let s = search.clone();
    tokio::task::spawn_blocking(move || s.apply(ops, last))
        .await
        .map_err(|e| DbError::Io(format!("search task failed: {e}")))?
        .map_err(to_db)?;
    advance(search, db).await?;
    Ok(n)
}
