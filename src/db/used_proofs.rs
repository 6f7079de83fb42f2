//! `used_sign_in_proofs`: the IDs of sign-in proofs already accepted (SAML responses and
//! assertions), so that none is accepted twice while it could still be valid.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::DbError;

/// Records `keys` (each with the Unix second it stops being valid) as used, in one
/// transaction; `Ok(false)`, recording nothing, when one was used already. Expired entries
/// are dropped on the way.
pub fn record(conn: &mut Connection, keys: &[(String, i64)], now: i64) -> Result<bool, DbError> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM used_sign_in_proofs WHERE expires_at <= ?1",
        [now],
    )?;
    for (key, _) in keys {
        let seen: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM used_sign_in_proofs WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        if seen.is_some() {
            return Ok(false);
        }
    }
    for (key, expires_at) in keys {
        tx.execute(
            "INSERT INTO used_sign_in_proofs (key, expires_at) VALUES (?1, ?2)",
            params![key, expires_at.max(&(now + 1))],
        )?;
    }
    tx.commit()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_accepted_once_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        crate::db::migrate::migrate(conn.as_sqlite_mut().unwrap(), &path).unwrap();
        let keys = vec![
            ("saml:response_id:_r".to_owned(), 1_000),
            ("saml:assertion_id:_a".to_owned(), 1_000),
        ];
        assert!(record(&mut conn, &keys, 500).unwrap());
        assert!(!record(&mut conn, &keys, 600).unwrap());
        // The same assertion inside another response is still a replay.
        let other = vec![
            ("saml:response_id:_r2".to_owned(), 1_000),
            ("saml:assertion_id:_a".to_owned(), 1_000),
        ];
        assert!(!record(&mut conn, &other, 700).unwrap());
        let n: i64 = conn
            .query_row("SELECT count(*) FROM used_sign_in_proofs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "a refused set records nothing");
        // Once expired, forgotten.
        assert!(record(&mut conn, &other, 1_000).unwrap());
    }
}
