-- Token credits (LibreChat's Balance and Transaction collections). 1,000,000 credits = $1.
--
-- Every change to a balance is a transaction row written in the same database transaction, so
-- a user's transactions always add up to their balance (start balance and refills included).
CREATE TABLE balances (
    user_id               TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_credits         INTEGER NOT NULL DEFAULT 0,
    auto_refill_enabled   INTEGER NOT NULL DEFAULT 0,
    refill_interval_value INTEGER NOT NULL DEFAULT 30,
    refill_interval_unit  TEXT NOT NULL DEFAULT 'days',
    last_refill           TEXT,
    refill_amount         INTEGER NOT NULL DEFAULT 0,
    updated_at            TEXT NOT NULL
) STRICT;

CREATE TABLE transactions (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT,
    message_id      TEXT,
    -- prompt, completion or credits.
    token_type      TEXT NOT NULL,
    model           TEXT,
    -- message, title, incomplete, autoRefill, admin, startBalance.
    context         TEXT NOT NULL,
    value_key       TEXT,
    rate            REAL,
    -- Tokens (negative when spent) or credits added.
    raw_amount      INTEGER NOT NULL,
    -- The change to the balance, in credits.
    token_value     INTEGER NOT NULL,
    input_tokens    INTEGER,
    write_tokens    INTEGER,
    read_tokens     INTEGER,
    created_at      TEXT NOT NULL
) STRICT;

CREATE INDEX transactions_by_user ON transactions (user_id, created_at);
