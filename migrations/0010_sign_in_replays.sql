-- Single-use proofs of a sign-in already accepted (SAML response and assertion IDs), kept until
-- they would have expired anyway, so an answer cannot be used twice, even across a restart.
CREATE TABLE used_sign_in_proofs (
    -- `saml:response_id:<ID>`, `saml:assertion_id:<ID>`.
    key        TEXT PRIMARY KEY,
    -- Unix seconds after which the proof is no longer valid and the row may go.
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
