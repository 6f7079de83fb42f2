//! Dense retrieval over the chunk vectors in SQLite (`db::chunk_vectors`), and its fusion with
//! BM25: no vector database, a brute-force scan of the vectors of the files a search may see.
//!
//! A file's vectors, once complete, are kept in memory (a bounded cache keyed by the file and
//! its completion, so vectors made again are never read stale); the scan is then a dot
//! product per chunk (the vectors are of unit length, so that is their cosine): 10,000
//! chunks of 1,536 dimensions take about 2 ms (`benches/file_search.rs`). Results are fused with BM25's by
//! reciprocal rank fusion (k = 60, as in Cormack et al. 2009), which needs no calibration
//! between two kinds of scores.

use std::collections::HashMap;
use std::sync::Arc;

use super::chunks::Passage;
use crate::bounded::BoundedCache;
use crate::db::chunk_vectors::{self as store, StoredChunk};
use crate::db::{Db, DbError};

/// RRF's constant.
const RRF_K: f32 = 60.0;
/// Memory for the vectors kept, in KB (64 MB: about 10,000 chunks of 1,536 dimensions).
const CACHE_KB: u64 = 64 * 1024;

/// One file's vectors, flat, with their chunk numbers.
struct FileVectors {
    chunks: Vec<u32>,
    dims: usize,
    data: Vec<f32>,
}

impl FileVectors {
    fn new(rows: Vec<(u32, Vec<f32>)>) -> Self {
        let dims = rows.first().map_or(0, |(_, v)| v.len());
        let mut chunks = Vec::with_capacity(rows.len());
        let mut data = Vec::with_capacity(rows.len() * dims);
        for (c, v) in rows {
            if v.len() == dims {
                chunks.push(c);
                data.extend_from_slice(&v);
            }
        }
        Self { chunks, dims, data }
    }
}

/// The chunk vectors of file search, read from the database and kept in memory.
pub struct VectorStore {
    db: Db,
    cache: BoundedCache<Arc<FileVectors>>,
}

impl VectorStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: BoundedCache::builder(CACHE_KB)
                .weigher(|_, v: &Arc<FileVectors>| {
                    u32::try_from(v.data.len() * 4 / 1024 + 1).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The `limit` chunks of the files `file_ids` nearest to `query` (of unit length) among
    /// those with vectors of `model`, nearest first, with their cosine as score.
    pub async fn nearest(
        &self,
        model: &str,
        file_ids: &[String],
        query: Vec<f32>,
        limit: usize,
    ) -> Result<Vec<Passage>, DbError> {
        let (m, ids) = (model.to_owned(), file_ids.to_vec());
        let done: HashMap<String, i64> = self
            .db
            .read(move |c| store::completed(c, &m, &ids))
            .await?
            .into_iter()
            .collect();
        let key = |id: &str, mark: i64| format!("{id}\u{1f}{mark}");
        let mut have = Vec::new();
        let mut missing = Vec::new();
        for id in file_ids {
            let mark = done.get(id).copied();
            match mark.and_then(|m| self.cache.get(&key(id, m))) {
                Some(v) => have.push((id.clone(), v)),
                None => missing.push((id.clone(), mark)),
            }
        }
        if !missing.is_empty() {
            let m = model.to_owned();
            let loaded = self
                .db
                .read(move |c| {
                    missing
                        .into_iter()
                        .map(|(id, mark)| {
                            let v = FileVectors::new(store::vectors(c, &m, &id)?);
                            Ok((id, mark, v))
                        })
                        .collect::<Result<Vec<_>, DbError>>()
                })
                .await?;
            for (id, mark, v) in loaded {
                let v = Arc::new(v);
                // Only complete files are kept: a partial one grows as the worker goes.
                if let Some(mark) = mark {
                    self.cache.insert(key(&id, mark), v.clone());
                }
                have.push((id, v));
            }
        }
        let top = tokio::task::spawn_blocking(move || top(&have, &query, limit))
            .await
            .map_err(|e| DbError::Io(format!("the vector scan failed: {e}")))?;
        let wanted: Vec<(String, u32)> = top.iter().map(|(f, c, _)| (f.clone(), *c)).collect();
        let stored = self.db.read(move |c| store::chunks(c, &wanted)).await?;
        Ok(top
            .into_iter()
            .filter_map(|(file_id, chunk, score)| {
                let s = stored
                    .iter()
                    .find(|s| s.file_id == file_id && s.chunk == chunk)?;
                Some(passage(s, score))
            })
            .collect())
    }
}

fn passage(s: &StoredChunk, score: f32) -> Passage {
    Passage {
        file_id: s.file_id.clone(),
        chunk: s.chunk,
        page: s.page,
        text: s.text.clone(),
        score,
    }
}

/// The `limit` best `(file, chunk, cosine)` of the files' vectors against `query`, of those
/// with a positive cosine. Kept by insertion into a short sorted list rather than by sorting
/// them all: as fast for the few kept, and no sort code compiled for it (the binary's budget).
fn top(
    files: &[(String, Arc<FileVectors>)],
    query: &[f32],
    limit: usize,
) -> Vec<(String, u32, f32)> {
    let mut best: Vec<(usize, usize, f32)> = Vec::with_capacity(limit + 1);
    for (f, (_, v)) in files.iter().enumerate() {
        if v.dims != query.len() || v.dims == 0 {
            continue;
        }
        for (i, row) in v.data.chunks_exact(v.dims).enumerate() {
            let dot = dot(row, query);
            // Nothing in common (or opposed): no vote in the fusion, where even a last rank
            // would lift a chunk BM25 found for a stop word above one only this list found.
            if dot > 0.0 && (best.len() < limit || best.last().is_some_and(|l| dot > l.2)) {
                let at = best.partition_point(|b| b.2 >= dot);
                best.insert(at, (f, i, dot));
                best.truncate(limit);
            }
        }
    }
    best.into_iter()
        .map(|(f, i, s)| (files[f].0.clone(), files[f].1.chunks[i], s))
        .collect()
}

/// The dot product, summed in 16 lanes: the compiler turns that into SIMD, which it may not
/// do for one running sum (float addition is not associative). 10,000 chunks of 1,536
/// dimensions: 2 ms, against 10 ms for a plain `sum()`.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Reciprocal rank fusion of ranked lists (best first): each chunk scores the sum of
/// `1 / (60 + rank)` over the lists it is in; the `keep` best, best first, with that score.
pub fn fuse(lists: &[Vec<Passage>], keep: usize) -> Vec<Passage> {
    let mut fused: Vec<Passage> = Vec::new();
    for list in lists {
        for (rank, p) in list.iter().enumerate() {
            let add = 1.0 / (RRF_K + rank as f32 + 1.0);
            match fused
                .iter_mut()
                .find(|f| f.file_id == p.file_id && f.chunk == p.chunk)
            {
                Some(f) => f.score += add,
                None => fused.push(Passage {
                    score: add,
                    ..p.clone()
                }),
            }
        }
    }
    // By score, best first; of equal scores, the earlier list's order stays.
    let mut out: Vec<Passage> = Vec::with_capacity(fused.len());
    for p in fused {
        let at = out.partition_point(|o| o.score >= p.score);
        out.insert(at, p);
    }
    out.truncate(keep);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(file: &str, chunk: u32) -> Passage {
        Passage {
            file_id: file.into(),
            chunk,
            page: None,
            text: format!("{file}{chunk}"),
            score: 9.0,
        }
    }

    #[test]
    fn fusion_rewards_agreement_and_keeps_what_only_one_list_found() {
        let bm25 = vec![p("a", 0), p("a", 1), p("b", 0)];
        let dense = vec![p("b", 0), p("c", 3)];
        let f = fuse(&[bm25, dense], 4);
        let order: Vec<_> = f.iter().map(|p| p.text.as_str()).collect();
        // c3 ties with a1 (both second in their list): the earlier list's comes first.
        assert_eq!(order, ["b0", "a0", "a1", "c3"]);
        assert!((f[0].score - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-6);
        assert!(fuse(&[vec![], vec![]], 10).is_empty());
    }

    #[test]
    fn the_nearest_chunks_come_first_and_other_dimensions_are_skipped() {
        let a = Arc::new(FileVectors::new(vec![
            (0, vec![1.0, 0.0]),
            (5, vec![0.6, 0.8]),
        ]));
        let b = Arc::new(FileVectors::new(vec![(2, vec![0.0, 1.0])]));
        let odd = Arc::new(FileVectors::new(vec![(0, vec![1.0, 0.0, 0.0])]));
        let files = vec![("a".into(), a), ("b".into(), b), ("odd".into(), odd)];
        let got = top(&files, &[0.0, 1.0], 2);
        assert_eq!(
            got.iter()
                .map(|(f, c, _)| (f.as_str(), *c))
                .collect::<Vec<_>>(),
            [("b", 2), ("a", 5)]
        );
        // Orthogonal chunks (cosine 0) are no match.
        assert_eq!(top(&files, &[0.0, 1.0], 10).len(), 2);
        let long: Vec<f32> = (0..37).map(|i| i as f32).collect();
        let plain: f32 = long.iter().map(|x| x * x).sum();
        assert!((dot(&long, &long) - plain).abs() < 1e-3);
    }
}
