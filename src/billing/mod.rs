//! Token credits, as LibreChat keeps them: a balance per user (when `balance.enabled` or
//! `CHECK_BALANCE`), a transaction for every spend and every credit, and a check before each
//! request that the balance covers the prompt. See [`rates`] for what tokens cost.
//!
//! Spending follows LibreChat's rules: a prompt transaction and a completion transaction per
//! answer (`context: message`), the prompt split into input, cache writes and cache reads at
//! their own rates when the provider reports caching, completions of a stopped answer at
//! [`rates::CANCEL_RATE`] (`context: incomplete`), titles billed too (`context: title`), and an
//! auto-refill (`context: autoRefill`) when the balance has run out and the interval passed.
//! Credits are whole numbers, costs rounded up.

pub mod rates;

use serde_json::Value;

use crate::config::Settings;
use crate::db::balances::{self, Balance, NewTransaction, Policy};
use crate::db::{Db, DbError};
use crate::providers::Usage;
use rates::TokenType;

/// The balance does not cover the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insufficient {
    pub balance: i64,
    pub cost: i64,
}

/// One answer's (or title's) spend.
pub struct Spend<'a> {
    pub user_id: &'a str,
    pub conversation_id: &'a str,
    pub message_id: &'a str,
    pub model: &'a str,
    /// `message` or `title`.
    pub context: &'static str,
    pub usage: Usage,
    /// Stopped before it ended: completions cost [`rates::CANCEL_RATE`] more.
    pub incomplete: bool,
    pub token_config: Option<&'a Value>,
}

pub struct Billing {
    db: Db,
    /// Balances are kept and checked.
    pub balance: bool,
    /// Transactions are recorded (always when balances are kept).
    pub transactions: bool,
    policy: Policy,
}

impl Billing {
    pub fn new(db: Db, settings: &Settings) -> Self {
        let b = settings.yaml.balance.clone().unwrap_or_default();
        let unit = b
            .refill_interval_unit
            .map(|u| format!("{u:?}").to_ascii_lowercase())
            .unwrap_or_else(|| "days".into());
        Self {
            db,
            balance: settings.features.balance_enabled,
            transactions: settings.features.transactions || settings.features.balance_enabled,
            policy: Policy {
                start_balance: settings.features.start_balance as i64,
                auto_refill_enabled: b.auto_refill_enabled.unwrap_or(false),
                refill_interval_value: b.refill_interval_value.unwrap_or(30) as i64,
                refill_interval_unit: unit,
                refill_amount: b.refill_amount.unwrap_or(0) as i64,
            },
        }
    }

    /// An administrator's change: adds `amount` credits (negative takes them away), or sets
    /// the balance to `amount`; recorded as an `admin` transaction either way. Works whether
    /// or not balances are enforced. Returns the new balance.
    pub async fn adjust(&self, user_id: &str, amount: i64, set: bool) -> Result<i64, DbError> {
        let (id, policy) = (user_id.to_owned(), self.policy.clone());
        self.db
            .write(move |c| {
                let tx = c.transaction()?;
                balances::ensure(&tx, &id, &policy)?;
                if set {
                    balances::set(&tx, &id, amount)?;
                } else {
                    balances::add(&tx, &id, amount, "admin")?;
                }
                let b = balances::get(&tx, &id)?.ok_or(DbError::NotFound)?;
                tx.commit()?;
                Ok(b.token_credits)
            })
            .await
    }

    /// The user's balance (created with the start balance the first time); `None` when
    /// balances are off.
    pub async fn balance(&self, user_id: &str) -> Result<Option<Balance>, DbError> {
        if !self.balance {
            return Ok(None);
        }
        let (u, policy) = (user_id.to_owned(), self.policy.clone());
        self.db
            .write(move |c| {
                let tx = c.transaction()?;
                let b = balances::ensure(&tx, &u, &policy)?;
                tx.commit()?;
                Ok(Some(b))
            })
            .await
    }

    /// Whether the balance covers `prompt_tokens` of `model` (refilling first when due).
    pub async fn check(
        &self,
        user_id: &str,
        model: &str,
        prompt_tokens: u64,
        token_config: Option<&Value>,
    ) -> Result<Result<(), Insufficient>, DbError> {
        if !self.balance {
            return Ok(Ok(()));
        }
        let cost = (prompt_tokens as f64
            * rates::rate_for(model, TokenType::Prompt, token_config, prompt_tokens))
        .ceil() as i64;
        let (u, policy) = (user_id.to_owned(), self.policy.clone());
        let balance = self
            .db
            .write(move |c| {
                let tx = c.transaction()?;
                let mut b = balances::ensure(&tx, &u, &policy)?;
                if b.token_credits < cost && refill_due(&b) {
                    balances::add(&tx, &u, b.refill_amount, "autoRefill")?;
                    balances::refilled(&tx, &u)?;
                    b = balances::get(&tx, &u)?.ok_or(DbError::NotFound)?;
                }
                tx.commit()?;
                Ok(b.token_credits)
            })
            .await?;
        Ok(if cost > balance {
            Err(Insufficient { balance, cost })
        } else {
            Ok(())
        })
    }

    /// Records what an answer or a title cost, and takes it from the balance.
    pub async fn spend(&self, s: Spend<'_>) -> Result<(), DbError> {
        if !self.transactions {
            return Ok(());
        }
        let model = s.model.to_owned();
        let value_key = rates::value_key(&model).map(str::to_owned);
        let u = s.usage;
        let input = u.prompt_tokens + u.cache_read_tokens + u.cache_write_tokens;
        let prompt_rate = rates::rate_for(&model, TokenType::Prompt, s.token_config, input);
        let completion_rate = rates::rate_for(&model, TokenType::Completion, s.token_config, input);
        let (write_rate, read_rate) =
            rates::cache_rates(&model).unwrap_or((prompt_rate, prompt_rate));
        let cached = u.cache_read_tokens + u.cache_write_tokens > 0;
        let prompt_cost = u.prompt_tokens as f64 * prompt_rate
            + u.cache_write_tokens as f64 * write_rate
            + u.cache_read_tokens as f64 * read_rate;
        let base = NewTransaction {
            user_id: s.user_id.to_owned(),
            conversation_id: Some(s.conversation_id.to_owned()),
            message_id: Some(s.message_id.to_owned()),
            model: Some(model.clone()),
            context: if s.incomplete {
                "incomplete"
            } else {
                s.context
            },
            value_key,
            ..NewTransaction::default()
        };
        let prompt = NewTransaction {
            token_type: "prompt",
            rate: Some(prompt_rate),
            raw_amount: -((u.prompt_tokens + u.cache_read_tokens + u.cache_write_tokens) as i64),
            token_value: -(prompt_cost.ceil() as i64),
            input_tokens: cached.then_some(u.prompt_tokens as i64),
            write_tokens: cached.then_some(u.cache_write_tokens as i64),
            read_tokens: cached.then_some(u.cache_read_tokens as i64),
            ..base.clone()
        };
        let multiplier = if s.incomplete {
            rates::CANCEL_RATE
        } else {
            1.0
        };
        let completion = NewTransaction {
            token_type: "completion",
            rate: Some(completion_rate * multiplier),
            raw_amount: -(u.completion_tokens as i64),
            token_value: -((u.completion_tokens as f64 * completion_rate * multiplier).ceil()
                as i64),
            ..base
        };
        let (apply, policy) = (self.balance, self.policy.clone());
        self.db
            .write(move |c| {
                let tx = c.transaction()?;
                if apply {
                    let b = balances::ensure(&tx, &prompt.user_id, &policy)?;
                    let total = prompt.token_value + completion.token_value;
                    if b.token_credits + total <= 0 && refill_due(&b) {
                        balances::add(&tx, &prompt.user_id, b.refill_amount, "autoRefill")?;
                        balances::refilled(&tx, &prompt.user_id)?;
                    }
                }
                for t in [&prompt, &completion] {
                    if t.raw_amount != 0 {
                        balances::record(&tx, t, apply)?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }
}

impl Billing {
    /// Records what embedding a file's chunks cost its owner (`context: embeddings`, one
    /// prompt transaction with the model's rate), and takes it from the balance.
    pub async fn spend_embeddings(
        &self,
        user_id: &str,
        model: &str,
        tokens: u64,
    ) -> Result<(), DbError> {
        if !self.transactions || tokens == 0 {
            return Ok(());
        }
        let rate = rates::rate(model, TokenType::Prompt, None);
        let t = NewTransaction {
            user_id: user_id.to_owned(),
            model: Some(model.to_owned()),
            context: "embeddings",
            value_key: rates::value_key(model).map(str::to_owned),
            token_type: "prompt",
            rate: Some(rate),
            raw_amount: -(tokens as i64),
            token_value: -((tokens as f64 * rate).ceil() as i64),
            ..NewTransaction::default()
        };
        let (apply, policy) = (self.balance, self.policy.clone());
        self.db
            .write(move |c| {
                let tx = c.transaction()?;
                if apply {
                    balances::ensure(&tx, &t.user_id, &policy)?;
                }
                balances::record(&tx, &t, apply)?;
                tx.commit()?;
                Ok(())
            })
            .await
    }
}

/// Whether an auto-refill is due: enabled, an amount set, and the interval since the last one
/// passed (or none yet).
fn refill_due(b: &Balance) -> bool {
    if !b.auto_refill_enabled || b.refill_amount <= 0 {
        return false;
    }
    let Some(last) = &b.last_refill else {
        return true;
    };
    let Ok(last) =
        time::OffsetDateTime::parse(last, &time::format_description::well_known::Rfc3339)
    else {
        return true;
    };
    let n = b.refill_interval_value.max(0);
    let interval = match b.refill_interval_unit.as_str() {
        "seconds" => time::Duration::seconds(n),
        "minutes" => time::Duration::minutes(n),
        "hours" => time::Duration::hours(n),
        "days" => time::Duration::days(n),
        "weeks" => time::Duration::weeks(n),
        "months" => time::Duration::days(30 * n),
        _ => time::Duration::days(n),
    };
    time::OffsetDateTime::now_utc() >= last + interval
}
