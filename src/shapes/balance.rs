//! A balance, as `GET /api/balance` shows it.

use serde::Serialize;

/// The user's token credits and auto-refill settings (LibreChat's balance answer).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TBalance {
    pub token_credits: i64,
    pub auto_refill_enabled: bool,
    pub refill_interval_value: i64,
    pub refill_interval_unit: String,
    /// `null` before the first refill.
    pub last_refill: Option<String>,
    pub refill_amount: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_camel_case_and_no_refill_is_null() {
        let v = serde_json::to_value(TBalance {
            token_credits: 5,
            refill_interval_unit: "days".into(),
            ..TBalance::default()
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"tokenCredits": 5, "autoRefillEnabled": false, "refillIntervalValue": 0,
                "refillIntervalUnit": "days", "lastRefill": null, "refillAmount": 0})
        );
    }
}
