//! Reading the server's event streams, and the figures the benchmarks print.

use std::time::Duration;

use serde_json::Value;

/// Reads SSE frames from a response until `stop` says so; returns how many it read. (A
/// reader slower than the provider's burst gets a `sync` frame with the text so far instead
/// of each delta: both count as the first content.)
pub async fn read_until(
    resp: &mut reqwest::Response,
    buf: &mut String,
    mut stop: impl FnMut(&Value) -> bool,
) -> usize {
    let mut n = 0;
    let mut seen: Vec<String> = Vec::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let raw: String = buf.drain(..end + 2).collect();
            let Some(data) = raw.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let v: Value = serde_json::from_str(data).unwrap();
            if v["final"] == true && v.get("error").is_some() {
                panic!("the answer failed: {v}");
            }
            n += 1;
            seen.push(v.to_string().chars().take(200).collect());
            if stop(&v) {
                return n;
            }
        }
        let Some(chunk) = resp.chunk().await.unwrap() else {
            panic!("stream ended early: {seen:?}");
        };
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

pub fn rss_mb(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0
}

/// Peak resident memory of a process, MB (its `VmHWM`).
pub fn peak_rss_mb(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}
